// The relay's way out on Node: name lookups that outlive their dial's deadline still count (#24 item 10), so slow
// names cannot fill Node's resolver thread pool behind the relay's back.
import { describe, expect, it } from 'vitest';
import { RelayRefusal } from '../../shared/relay-refusal.ts';
import { ClientLedger } from '../client-ledger.ts';
import { DEFAULT_RELAY_POLICY } from '../relay-policy.ts';
import { dialChecked } from './tcp-dialer.ts';

describe('dialChecked', () => {
  it('counts a lookup until it ends, not until its dial gave up, and holds its stream slot as long', async () => {
    const policy = { ...DEFAULT_RELAY_POLICY, connectTimeoutMs: 100, maxPendingLookups: 2 };
    const ledger = new ClientLedger(policy);
    const pending: Array<(addresses: string[]) => void> = [];
    const resolve = () => new Promise<string[]>((done) => pending.push(done));
    const context = { policy, ledger, client: 'c', resolve };
    const codeOf = (promise: Promise<unknown>) => promise.then(() => 'connected', (error: unknown) => (error instanceof RelayRefusal ? error.code : String(error)));
    expect(await codeOf(dialChecked('slow-a.test', 443, context))).toBe('connect-timeout');
    expect(await codeOf(dialChecked('slow-b.test', 443, context))).toBe('connect-timeout');
    expect(ledger.totals().pendingLookups).toBe(2);
    expect(ledger.snapshot('c').streams).toBe(2);
    // Both lookups still run: a third name is refused at once instead of queueing behind them.
    expect(await codeOf(dialChecked('slow-c.test', 443, context))).toBe('relay-busy');
    for (const done of pending.splice(0)) done(['10.0.0.1']);
    await new Promise((settle) => setTimeout(settle, 10));
    expect(ledger.totals()).toMatchObject({ pendingLookups: 0, streams: 0 });
    expect(await codeOf(dialChecked('slow-d.test', 443, { ...context, resolve: async () => ['10.0.0.1'] }))).toBe('address-not-allowed');
  });
});
