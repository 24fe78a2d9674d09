// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
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

function mount(previews: Promise<Previews>) {
  document.body.innerHTML = '<main id="main"><section id="pane"><div class="terminal-frame"></div></section></main>';
  const pane = document.getElementById('pane') as HTMLElement;
  const main = document.getElementById('main') as HTMLElement;
  return new PortsView({ terminalPane: pane, main, previews });
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
});
