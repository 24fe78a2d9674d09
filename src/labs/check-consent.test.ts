// What counts as "the same checks" (a fingerprint of which step runs which command) and how accepted lists are
// remembered: in localStorage, capped, and still for this page when storage refuses.
import { describe, expect, it, vi } from 'vitest';
import { ACCEPTED_CHECKS_KEY, AcceptedChecks, MAX_REMEMBERED_LABS, checksFingerprint, labChecks, type ConsentStorage } from './check-consent.ts';
import { parseLab } from './parse-lab.ts';

function memoryStorage(): ConsentStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

const LAB = '---\ntitle: T\n---\n## One\n```verify\ntest -f /tmp/a\n```\n## Two\nNo check.\n## Three\n```verify\ntest -d /tmp/b\n```\n';

describe('labChecks and checksFingerprint', () => {
  it('lists each step with a check, in order', () => {
    const parsed = parseLab(LAB);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    expect(labChecks(parsed.lab)).toEqual([
      { stepIndex: 0, command: 'test -f /tmp/a' },
      { stepIndex: 2, command: 'test -d /tmp/b' },
    ]);
  });

  it('is the same for the same checks, and differs when a command or its step changes', async () => {
    const base = [{ stepIndex: 0, command: 'test -f /tmp/a' }];
    const first = await checksFingerprint(base);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await checksFingerprint([{ stepIndex: 0, command: 'test -f /tmp/a' }])).toBe(first);
    expect(await checksFingerprint([{ stepIndex: 0, command: 'test -f /tmp/a ' }])).not.toBe(first);
    expect(await checksFingerprint([{ stepIndex: 1, command: 'test -f /tmp/a' }])).not.toBe(first);
    expect(await checksFingerprint([...base, { stepIndex: 1, command: 'true' }])).not.toBe(first);
  });
});

describe('AcceptedChecks', () => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);

  it('remembers accepted fingerprints in storage, for a new instance too, and forgets removed ones', () => {
    const storage = memoryStorage();
    new AcceptedChecks(storage).add(a);
    const later = new AcceptedChecks(storage);
    expect(later.has(a)).toBe(true);
    expect(later.has(b)).toBe(false);
    later.remove(a);
    expect(new AcceptedChecks(storage).has(a)).toBe(false);
    expect(JSON.parse(storage.items.get(ACCEPTED_CHECKS_KEY) ?? '')).toEqual([]);
  });

  it('keeps only the most recent ones', () => {
    const storage = memoryStorage();
    const accepted = new AcceptedChecks(storage);
    for (let index = 0; index <= MAX_REMEMBERED_LABS; index += 1) accepted.add(index.toString(16).padStart(64, '0'));
    const stored: unknown = JSON.parse(storage.items.get(ACCEPTED_CHECKS_KEY) ?? '');
    expect(stored).toHaveLength(MAX_REMEMBERED_LABS);
    expect(new AcceptedChecks(storage).has('0'.repeat(64))).toBe(false);
    expect(new AcceptedChecks(storage).has(MAX_REMEMBERED_LABS.toString(16).padStart(64, '0'))).toBe(true);
  });

  it('treats unreadable storage as nothing accepted, and keeps acceptance for the page when storage refuses', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const junk = memoryStorage();
    junk.items.set(ACCEPTED_CHECKS_KEY, '{not json');
    expect(new AcceptedChecks(junk).has(a)).toBe(false);
    junk.items.set(ACCEPTED_CHECKS_KEY, JSON.stringify([a.toUpperCase(), 7, 'x']));
    expect(new AcceptedChecks(junk).has(a.toUpperCase())).toBe(false);
    const refusing: ConsentStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
    };
    const accepted = new AcceptedChecks(refusing);
    accepted.add(a);
    expect(accepted.has(a)).toBe(true);
    expect(new AcceptedChecks(refusing).has(a)).toBe(false);
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });
});
