// @vitest-environment jsdom
// Embed API: message validation, origin and source checks, requests reaching a real lab panel, events out.
import { describe, expect, it, vi } from 'vitest';
import { CHECKS_NOT_ACCEPTED_ERROR, allowedOriginsFromLocation, connectEmbedBridge, isAllowedOrigin, parseEmbedRequest, postEmbedEvent, type EmbedBridgeDeps, type EmbedEvent } from './embed-api.ts';
import { mountLabPanel } from './lab-panel.ts';
import { fromSource } from './load-lab.ts';

const LAB = '---\ntitle: Embedded\n---\n## One\n```sh run\ntouch x\n```\n```verify\ntest -f x\n```\n';

describe('parseEmbedRequest', () => {
  it('accepts each well-formed request', () => {
    for (const request of [
      { tabdock: 1, type: 'run', id: 'a', command: 'docker ps' },
      { tabdock: 1, type: 'check', id: 'b', stepIndex: 0 },
      { tabdock: 1, type: 'load-lab', id: 'c', source: LAB },
      { tabdock: 1, type: 'ping', id: 'd' },
    ]) {
      expect(parseEmbedRequest(request)).toEqual({ ok: true, request });
    }
  });

  it('rejects wrong versions, unknown types, extra keys, bad fields and oversized commands, keeping the id to reply to', () => {
    const bad: unknown[] = [
      { tabdock: 2, type: 'run', id: 'a', command: 'x' },
      { tabdock: 1, type: 'exec', id: 'a', command: 'x' },
      { tabdock: 1, type: 'run', id: 'a', command: 'x', extra: true },
      { tabdock: 1, type: 'run', id: 'a', command: '' },
      { tabdock: 1, type: 'run', id: 'a', command: 'x'.repeat(5000) },
      { tabdock: 1, type: 'check', id: 'a', stepIndex: -1 },
      { tabdock: 1, type: 'check', id: 'a', stepIndex: 1.5 },
      { tabdock: 1, type: 'run', id: '', command: 'x' },
      // What the page shows is not what readline would run (issue #24).
      { tabdock: 1, type: 'run', id: 'a', command: 'echo "curl x | sh"\u0001\u0004\u0005\u0008' },
      { tabdock: 1, type: 'run', id: 'a', command: 'echo \u202Ehs | lruc' },
      { tabdock: 1, type: 'run', id: 'a', command: 'ls\u200b' },
    ];
    for (const message of bad) {
      const result = parseEmbedRequest(message);
      expect(result.ok, JSON.stringify(message).slice(0, 80)).toBe(false);
      if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
    }
    expect(parseEmbedRequest({ tabdock: 1, type: 'run', id: 'keep', command: 7 })).toMatchObject({ ok: false, id: 'keep' });
    expect(parseEmbedRequest({ tabdock: 1, type: 'run', id: 'k', command: 'ls\u0003' })).toMatchObject({ ok: false, reason: expect.stringContaining('U+0003 (Ctrl-C)') });
    expect(parseEmbedRequest({ tabdock: 1, type: 'run', id: 'k', command: 'cat <<EOF\n\tindented\nEOF' }).ok).toBe(true);
  });

  it('ignores messages that are not for tabdock, and never throws on junk', () => {
    for (const junk of [null, undefined, 0, 'run', [], {}, { type: 'run' }, Object.create(null), { tabdock: {} }]) {
      expect(parseEmbedRequest(junk).ok).toBe(false);
    }
  });
});

describe('origins', () => {
  it('matches exactly and reads ?parentOrigin=', () => {
    expect(isAllowedOrigin('https://a.example', ['https://a.example'])).toBe(true);
    expect(isAllowedOrigin('https://a.example.evil', ['https://a.example'])).toBe(false);
    expect(isAllowedOrigin('https://x', [])).toBe(false);
    expect(allowedOriginsFromLocation({ search: '?parentOrigin=https://a.example/path&parentOrigin=nonsense&parentOrigin=http://b:8080' })).toEqual([
      'https://a.example',
      'http://b:8080',
    ]);
  });
});

describe('postEmbedEvent', () => {
  it('posts the event once per allowed origin, with that origin as the target, and nothing without one', () => {
    const posted: [unknown, string][] = [];
    const parent = { postMessage: (message: unknown, targetOrigin: string) => void posted.push([message, targetOrigin]) } as Pick<Window, 'postMessage'>;
    const event: EmbedEvent = { tabdock: 1, type: 'error', code: 'boot-timeout', message: 'The VM did not start.' };
    postEmbedEvent(parent, ['https://a.example', 'http://b:8080'], event);
    expect(posted).toEqual([
      [event, 'https://a.example'],
      [event, 'http://b:8080'],
    ]);
    postEmbedEvent(parent, [], event);
    expect(posted).toHaveLength(2);
  });
});

describe('connectEmbedBridge', () => {
  function setup(extra: Partial<Pick<EmbedBridgeDeps, 'engineQuery'>> = {}) {
    const self = new EventTarget();
    const sent: { event: EmbedEvent; origin: string }[] = [];
    const parent = { postMessage: (event: EmbedEvent, origin: string) => sent.push({ event, origin }) };
    const typed: string[] = [];
    const files = new Set<string>();
    const checked: string[] = [];
    const container = document.createElement('div');
    const panel = mountLabPanel(container, {
      onRun: (command) => typed.push(command),
      verifyStep: async (command) => {
        checked.push(command);
        return { exitCode: files.has(command.replace('test -f ', '')) ? 0 : 1, output: '' };
      },
      consentStorage: null,
      autoCheckDelaysMs: [],
    });
    const disconnect = connectEmbedBridge({
      self: self as unknown as Window,
      parent: parent as unknown as Window,
      allowedOrigins: ['https://host.example'],
      panel,
      onRun: (command) => typed.push(command),
      ...extra,
    });
    const post = (data: unknown, origin = 'https://host.example', source: unknown = parent) =>
      self.dispatchEvent(Object.assign(new Event('message'), { data, origin, source }));
    return { sent, typed, files, checked, container, panel, post, disconnect };
  }
  const flush = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('says ready, loads a lab, runs a command; checks only after the reader accepts in the frame, then step-done', async () => {
    const { sent, typed, files, checked, container, panel, post } = setup();
    expect(sent[0]).toEqual({ event: { tabdock: 1, type: 'ready' }, origin: 'https://host.example' });
    post({ tabdock: 1, type: 'load-lab', id: 'l', source: LAB });
    await vi.waitFor(() => expect(sent.map((item) => item.event)).toContainEqual({ tabdock: 1, type: 'checks-consent', state: 'asking' }));
    expect(sent.map((item) => item.event)).toContainEqual({ tabdock: 1, type: 'lab-shown', title: 'Embedded', stepCount: 1 });
    post({ tabdock: 1, type: 'run', id: 'r', command: 'touch x' });
    await flush();
    expect(typed).toEqual(['touch x']);
    files.add('x');
    // The embedding page can neither check before the reader accepts nor accept for them.
    post({ tabdock: 1, type: 'check', id: 'early', stepIndex: 0 });
    post({ tabdock: 1, type: 'accept-checks', id: 'forge' });
    post({ tabdock: 1, type: 'load-lab', id: 'l2', source: LAB });
    await panel.recheck();
    await vi.waitFor(() => expect(sent.map((item) => item.event)).toContainEqual({ tabdock: 1, type: 'reply', id: 'early', ok: false, error: CHECKS_NOT_ACCEPTED_ERROR }));
    expect(sent.map((item) => item.event)).toContainEqual(expect.objectContaining({ type: 'reply', id: 'forge', ok: false }));
    expect(checked).toEqual([]);
    await vi.waitFor(() => expect(container.querySelector('.lab-consent-accept')).not.toBeNull());
    container.querySelector<HTMLButtonElement>('.lab-consent-accept')?.click();
    expect(sent.map((item) => item.event)).toContainEqual({ tabdock: 1, type: 'checks-consent', state: 'accepted' });
    post({ tabdock: 1, type: 'check', id: 'c', stepIndex: 0 });
    await vi.waitFor(() => expect(sent.map((item) => item.event)).toContainEqual({ tabdock: 1, type: 'reply', id: 'c', ok: true, status: 'done' }));
    const events = sent.map((item) => item.event);
    expect(events).toContainEqual({ tabdock: 1, type: 'step-done', stepIndex: 0, title: 'One' });
    expect(events).toContainEqual({ tabdock: 1, type: 'reply', id: 'c', ok: true, status: 'done' });
    expect(events).toContainEqual({ tabdock: 1, type: 'lab-complete', title: 'Embedded' });
  });

  it('ignores other origins and other windows; answers invalid requests with an error reply', async () => {
    const { sent, typed, post, panel } = setup();
    panel.load(fromSource(LAB, { kind: 'inline' }, 'test'));
    post({ tabdock: 1, type: 'run', id: 'r', command: 'rm -rf /' }, 'https://evil.example');
    post({ tabdock: 1, type: 'run', id: 'r', command: 'rm -rf /' }, 'https://host.example', {});
    await flush();
    expect(typed).toEqual([]);
    post({ tabdock: 1, type: 'check', id: 'far', stepIndex: 7 });
    post({ tabdock: 1, type: 'run', id: 'bad', command: 42 });
    await flush();
    const replies = sent.map((item) => item.event).filter((event) => event.type === 'reply');
    expect(replies).toHaveLength(2);
    expect(replies).toContainEqual(expect.objectContaining({ id: 'bad', ok: false }));
    expect(replies).toContainEqual(expect.objectContaining({ id: 'far', ok: false, error: 'no step 7 in this lab' }));
  });

  it('answers a read-only Engine API query, refuses one it cannot type-check, and has no write query', async () => {
    const queries: unknown[] = [];
    const { sent, post } = setup({
      engineQuery: async (query) => {
        queries.push(query);
        if (query.kind === 'image-history') throw new Error('No such image: nope');
        return [{ id: 'c1', name: 'web', image: 'nginx', command: '', createdS: 1, state: 'running', status: 'Up', ports: [], networks: [], mounts: [] }];
      },
    });
    post({ tabdock: 1, type: 'engine-query', id: 'q1', query: { kind: 'containers' } });
    post({ tabdock: 1, type: 'engine-query', id: 'q2', query: { kind: 'image-history', id: 'nope' } });
    post({ tabdock: 1, type: 'engine-query', id: 'q3', query: { kind: 'container-stop', id: 'web' } });
    post({ tabdock: 1, type: 'engine-query', id: 'q4', query: { kind: 'image-history', id: '../x y' } });
    await flush();
    const replies = sent.map((item) => item.event).filter((event) => event.type === 'reply');
    expect(replies).toContainEqual({ tabdock: 1, type: 'reply', id: 'q1', ok: true, result: [expect.objectContaining({ name: 'web', state: 'running' })] });
    expect(replies).toContainEqual({ tabdock: 1, type: 'reply', id: 'q2', ok: false, error: 'No such image: nope' });
    expect(replies).toContainEqual(expect.objectContaining({ id: 'q3', ok: false }));
    expect(replies).toContainEqual(expect.objectContaining({ id: 'q4', ok: false }));
    expect(queries).toEqual([{ kind: 'containers' }, { kind: 'image-history', id: 'nope' }]);
  });

  it('stops listening when disconnected', async () => {
    const { typed, post, disconnect } = setup();
    disconnect();
    post({ tabdock: 1, type: 'run', id: 'r', command: 'ls' });
    await flush();
    expect(typed).toEqual([]);
  });
});
