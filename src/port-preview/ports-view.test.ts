// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProbeResult } from './port-wait.ts';
import { PortsView } from './ports-view.ts';
import type { Previews } from './previews.ts';

const PORTS = [
  { hostPort: 8080, containerPort: 80, container: 'web' },
  { hostPort: 3000, containerPort: 3000, container: 'api' },
];

function fakePreviews(overrides: Partial<Previews> = {}) {
  const calls: string[] = [];
  const previews: Previews = {
    warning: undefined,
    frameSandbox: 'allow-scripts allow-same-origin',
    preparePanel: async (port) => (calls.push(`prepare ${port}`), `http://localhost:14173/port/${port}/`),
    closePanel: () => calls.push('close'),
    reloadPanel: (frame) => calls.push(`reload ${frame.name}`),
    tabUrl: (port) => `http://localhost:14173/?port=${port}&mode=tab`,
    openTab: (port) => calls.push(`tab ${port}`),
    dispose: () => calls.push('dispose'),
    ...overrides,
  };
  return { previews, calls };
}

const ANSWERED: ProbeResult = { kind: 'answered' };
const REFUSED: ProbeResult = { kind: 'not-yet', code: 'not-listening', message: 'Nothing in the VM is listening on port 8080.' };

function mount(previews: Promise<Previews>, probe: (port: number) => Promise<ProbeResult> = async () => ANSWERED) {
  document.body.innerHTML = '<main id="main"><section id="pane"><div class="terminal-frame"></div></section></main>';
  const pane = document.getElementById('pane') as HTMLElement;
  const main = document.getElementById('main') as HTMLElement;
  return new PortsView({ terminalPane: pane, main, previews, probe, waitLimitMs: 10_000 });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const frame = () => document.querySelector<HTMLIFrameElement>('iframe.preview-frame');

describe('PortsView', () => {
  beforeEach(() => {
    document.body.innerHTML = '';
  });

  it('stays hidden without ports and lists each published port with Open and New tab', async () => {
    const { previews } = fakePreviews();
    const view = mount(Promise.resolve(previews));
    await settle();
    const bar = document.querySelector<HTMLElement>('[role="region"][aria-label="Published ports"]');
    expect(bar?.hidden).toBe(true);
    view.show(PORTS);
    expect(bar?.hidden).toBe(false);
    const items = Array.from(document.querySelectorAll<HTMLElement>('.ports-item'));
    expect(items.map((item) => item.dataset['port'])).toEqual(['8080', '3000']);
    expect(items[0]?.textContent).toContain('Port 8080');
    expect(items[0]?.querySelector('button')?.getAttribute('aria-label')).toBe('Open port 8080 (web) in the preview panel');
    expect(items[0]?.querySelector('a')?.getAttribute('href')).toBe(previews.tabUrl(8080));
    view.show([]);
    expect(bar?.hidden).toBe(true);
  });

  it('loads the page in a sandboxed, named frame once the preview is ready, and closes it', async () => {
    const { previews, calls } = fakePreviews();
    const view = mount(Promise.resolve(previews));
    await settle();
    view.show(PORTS);
    document.querySelector<HTMLButtonElement>('.ports-open')?.click();
    await settle();
    expect(frame()?.getAttribute('src')).toBe('http://localhost:14173/port/8080/');
    expect(frame()?.getAttribute('sandbox')).toBe('allow-scripts allow-same-origin');
    expect(frame()?.name).toBe('tabdock-preview-panel');
    expect(frame()?.title).toBe('Preview of port 8080');
    const panel = document.querySelector<HTMLElement>('.preview-panel');
    expect(panel?.hidden).toBe(false);
    expect(view.openedPort).toBe(8080);
    document.querySelector<HTMLButtonElement>('.preview-head button')?.click();
    document.querySelector<HTMLButtonElement>('button[aria-label="Close the preview"]')?.click();
    expect(panel?.hidden).toBe(true);
    expect(frame()?.hasAttribute('src')).toBe(false);
    expect(calls).toEqual(['prepare 8080', 'reload tabdock-preview-panel', 'close']);
  });

  it('opens New tab through the previews (the tab needs this page), not as a plain link', async () => {
    const { previews, calls } = fakePreviews();
    const view = mount(Promise.resolve(previews));
    await settle();
    view.show(PORTS);
    const link = document.querySelectorAll<HTMLAnchorElement>('.ports-tab')[1];
    const click = new MouseEvent('click', { bubbles: true, cancelable: true });
    link?.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(calls).toEqual(['tab 3000']);
  });

  it("shows, in the bar and the panel, that previews run with the app's rights when they do", async () => {
    const warning = "Previews run with tabdock's own origin: no preview origin is configured";
    const { previews } = fakePreviews({ warning, frameSandbox: undefined });
    const view = mount(Promise.resolve(previews));
    await settle();
    view.show(PORTS);
    expect(document.querySelector('.ports-note')?.textContent).toMatch(/own origin and rights/);
    await view.open(8080);
    const note = document.querySelector<HTMLElement>('.preview-panel [role="note"]');
    expect(note?.hidden).toBe(false);
    expect(note?.textContent).toBe(warning);
    expect(frame()?.hasAttribute('sandbox')).toBe(false);
  });

  it('says why a preview did not open, and loads nothing', async () => {
    const { previews } = fakePreviews({ preparePanel: () => Promise.reject(new Error('The preview origin http://localhost:14173 did not answer within 30 s.')) });
    const view = mount(Promise.resolve(previews));
    await view.open(8080);
    const alert = document.querySelector<HTMLElement>('.preview-panel [role="alert"]');
    expect(alert?.hidden).toBe(false);
    expect(alert?.textContent).toMatch(/did not answer/);
    expect(frame()?.hasAttribute('src')).toBe(false);
  });

  it('says why previews are unavailable and disables Open', async () => {
    const view = mount(Promise.reject(new Error('Port preview needs a Service Worker: open tabdock over https:// or on localhost.')));
    await settle();
    view.show(PORTS);
    expect(document.querySelector('.ports-note')?.textContent).toMatch(/needs a Service Worker/);
    expect(document.querySelector<HTMLButtonElement>('.ports-open')?.disabled).toBe(true);
    await view.open(8080);
    expect(document.querySelector<HTMLElement>('.preview-panel')?.hidden).toBe(true);
  });

  describe('waiting for the port to answer', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    const waitBox = () => document.querySelector<HTMLElement>('.preview-waiting');

    it('shows "Waiting for port 8080 to answer" with the seconds, then loads the page by itself once it answers', async () => {
      vi.useFakeTimers();
      let listening = false;
      const probed: number[] = [];
      const { previews } = fakePreviews();
      const view = mount(Promise.resolve(previews), async (port) => (probed.push(port), listening ? ANSWERED : REFUSED));
      await vi.advanceTimersByTimeAsync(0);
      view.show(PORTS);
      const opened = view.open(8080);
      await vi.advanceTimersByTimeAsync(3_100);
      expect(waitBox()?.hidden).toBe(false);
      expect(waitBox()?.getAttribute('role')).toBe('status');
      expect(waitBox()?.textContent).toMatch(/^Waiting for port 8080 to answer… \(3 s\)/);
      expect(frame()?.hasAttribute('src')).toBe(false);
      listening = true;
      await vi.advanceTimersByTimeAsync(2_100);
      await opened;
      expect(frame()?.getAttribute('src')).toBe('http://localhost:14173/port/8080/');
      expect(waitBox()?.hidden).toBe(true);
      expect(new Set(probed)).toEqual(new Set([8080]));
    });

    it('gives up after the limit, says what to check for that container, and Retry waits again', async () => {
      vi.useFakeTimers();
      let listening = false;
      const { previews } = fakePreviews();
      const view = mount(Promise.resolve(previews), async () => (listening ? ANSWERED : REFUSED));
      await vi.advanceTimersByTimeAsync(0);
      view.show(PORTS);
      void view.open(8080);
      await vi.advanceTimersByTimeAsync(12_000);
      expect(waitBox()?.getAttribute('role')).toBe('alert');
      expect(waitBox()?.textContent).toContain('Port 8080 did not answer within 10 s');
      expect(waitBox()?.textContent).toContain('`docker logs web`');
      expect(waitBox()?.textContent).toContain('its port 80');
      expect(waitBox()?.textContent).toContain('Nothing in the VM is listening on port 8080.');
      expect(frame()?.hasAttribute('src')).toBe(false);
      listening = true;
      const retry = Array.from(waitBox()?.querySelectorAll('button') ?? []).find((button) => button.textContent === 'Retry');
      expect(retry?.hidden).toBe(false);
      retry?.click();
      await vi.advanceTimersByTimeAsync(10);
      expect(frame()?.getAttribute('src')).toBe('http://localhost:14173/port/8080/');
      expect(waitBox()?.hidden).toBe(true);
    });

    it('stops probing when the panel closes', async () => {
      vi.useFakeTimers();
      let probes = 0;
      const { previews } = fakePreviews();
      const view = mount(Promise.resolve(previews), async () => (probes++, REFUSED));
      await vi.advanceTimersByTimeAsync(0);
      void view.open(8080);
      await vi.advanceTimersByTimeAsync(2_000);
      view.close();
      const before = probes;
      await vi.advanceTimersByTimeAsync(20_000);
      expect(probes).toBe(before);
      expect(frame()?.hasAttribute('src')).toBe(false);
    });
  });
});
