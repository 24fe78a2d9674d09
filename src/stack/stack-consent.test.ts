// @vitest-environment jsdom
// A stack link never runs anything the reader has not seen and accepted: the panel shows the file, its services,
// images and ports and the exact command; nothing reaches the machine until Run is clicked (and the VM is up);
// a bad link or file is explained and nothing runs.
import { beforeEach, describe, expect, it } from 'vitest';
import { mountStackLink, type StackLinkOptions } from './index.ts';

const COMPOSE = 'services:\n  web:\n    image: tabdock/httpd\n    ports: ["8082:80"]\n    command: ["echo", "<b>not markup</b>"]\n';
const LINK = 'http://127.0.0.1:9/demo/docker-compose.yml';

function mount(search: string, body: string | Error = COMPOSE) {
  document.body.innerHTML = '<section id="pane"><div class="terminal-frame"></div></section>';
  const pane = document.getElementById('pane') as HTMLElement;
  const execs: string[] = [];
  const typed: string[] = [];
  const options: StackLinkOptions = {
    location: { search, href: `http://localhost:4173/${search}`, origin: 'http://localhost:4173' },
    proxyUrl: () => undefined,
    fetch: (async () => {
      if (body instanceof Error) throw body;
      return new Response(body);
    }) as typeof fetch,
    exec: async (command) => (execs.push(command), { output: '', exitCode: 0 }),
    sendInput: (data) => typed.push(data),
  };
  const link = mountStackLink(pane, options);
  const panel = () => document.querySelector<HTMLElement>('section[aria-label="Stack from a link"]');
  return { link, execs, typed, panel };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
};
const runButton = () => document.querySelector<HTMLButtonElement>('.stack-run');

describe('stack link consent', () => {
  beforeEach(() => {
    document.body.innerHTML = '';
  });

  it('shows nothing without ?stack=', () => {
    const { panel } = mount('?lab=docker-basics');
    expect(panel()).toBeNull();
  });

  it('shows the file (as text), the services, images and ports, and runs nothing before Run', async () => {
    const { link, execs, typed, panel } = mount(`?stack=${encodeURIComponent(LINK)}`);
    await settle();
    expect(panel()?.dataset['state']).toBe('asking');
    const text = panel()?.textContent ?? '';
    expect(text).toContain('Run this stack?');
    expect(text).toContain(LINK);
    expect(text).toContain('tabdock/httpd');
    expect(text).toContain('8082:80');
    expect(text).toContain("cd '/root/stacks/demo' && docker compose up -d");
    expect(panel()?.querySelector('pre')?.textContent).toBe(COMPOSE);
    expect(panel()?.querySelector('b')).toBeNull();
    // The VM is not up yet: Run waits for it.
    expect(runButton()?.disabled).toBe(true);
    link.vmStarted();
    expect(runButton()?.disabled).toBe(false);
    await settle();
    expect(execs).toEqual([]);
    expect(typed).toEqual([]);

    runButton()?.click();
    await settle();
    expect(execs).toHaveLength(1);
    expect(execs[0]).toMatch(/^mkdir -p '\/root\/stacks\/demo' && base64 -d > '\/root\/stacks\/demo\/compose\.yaml' <<'TABDOCK_EOF'\n/);
    expect(atob(execs[0]?.split('\n')[1] ?? '')).toBe(COMPOSE);
    expect(typed).toEqual(["\u0015cd '/root/stacks/demo' && docker compose up -d\r"]);
    expect(panel()?.dataset['state']).toBe('started');
    expect(panel()?.textContent).toContain('8082');
  });

  it('explains a malformed link, a failed fetch and a file that is not compose; nothing runs', async () => {
    for (const [search, body, code] of [
      ['?stack=', COMPOSE, /names no Compose file/],
      [`?stack=${encodeURIComponent(LINK)}`, new TypeError('Failed to fetch'), /Could not fetch the Compose file from 127\.0\.0\.1:9/],
      [`?stack=${encodeURIComponent(LINK)}`, '<html>hello</html>', /is not a Compose file/],
      [`?stack=${encodeURIComponent(LINK)}`, 'services:\n  a:\n    image: busybox\n    command: ["sh", "-c", "echo \u202e"]\n', /right-to-left override/],
    ] as const) {
      const { link, execs, typed, panel } = mount(search, body);
      link.vmStarted();
      await settle();
      expect(panel()?.dataset['state']).toBe('error');
      expect(panel()?.querySelector('[role="alert"]')?.textContent).toMatch(code);
      expect(runButton()).toBeNull();
      expect([execs, typed]).toEqual([[], []]);
    }
  });

  it('Dismiss removes the panel without running anything', async () => {
    const { link, execs, typed, panel } = mount(`?stack=${encodeURIComponent(LINK)}`);
    link.vmStarted();
    await settle();
    document.querySelector<HTMLButtonElement>('.stack-dismiss')?.click();
    expect(panel()).toBeNull();
    expect([execs, typed]).toEqual([[], []]);
  });
});
