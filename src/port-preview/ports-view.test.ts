// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import { PortsView } from './ports-view.ts';

const urlFor = (port: number) => `http://localhost/app/port/${port}/`;

function mount(ready: Promise<void>) {
  document.body.innerHTML = '<main id="main"><section id="pane"><div class="terminal-frame"></div></section></main>';
  const pane = document.getElementById('pane') as HTMLElement;
  const main = document.getElementById('main') as HTMLElement;
  return { view: new PortsView({ terminalPane: pane, main, urlFor, ready }), pane, main };
}

describe('PortsView', () => {
  beforeEach(() => {
    document.body.innerHTML = '';
  });

  it('stays hidden without ports and lists each published port with Open and New tab', () => {
    const { view } = mount(Promise.resolve());
    const bar = document.querySelector<HTMLElement>('[role="region"][aria-label="Published ports"]');
    expect(bar?.hidden).toBe(true);
    view.show([
      { hostPort: 8080, containerPort: 80, container: 'web' },
      { hostPort: 3000, containerPort: 3000, container: 'api' },
    ]);
    expect(bar?.hidden).toBe(false);
    const items = Array.from(document.querySelectorAll<HTMLElement>('.ports-item'));
    expect(items.map((item) => item.dataset['port'])).toEqual(['8080', '3000']);
    expect(items[0]?.textContent).toContain('Port 8080');
    expect(items[0]?.querySelector('button')?.getAttribute('aria-label')).toBe('Open port 8080 (web) in the preview panel');
    expect(items[0]?.querySelector('a')?.getAttribute('href')).toBe(urlFor(8080));
    view.show([]);
    expect(bar?.hidden).toBe(true);
  });

  it('opens a port in the panel once the Service Worker is ready, and closes it', async () => {
    const { view } = mount(Promise.resolve());
    view.show([{ hostPort: 8080, containerPort: 80, container: 'web' }]);
    document.querySelector<HTMLButtonElement>('.ports-open')?.click();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const frame = document.querySelector<HTMLIFrameElement>('iframe.preview-frame');
    expect(frame?.getAttribute('src')).toBe(urlFor(8080));
    expect(frame?.title).toBe('Preview of port 8080');
    const panel = document.querySelector<HTMLElement>('.preview-panel');
    expect(panel?.hidden).toBe(false);
    expect(view.openedPort).toBe(8080);
    document.querySelector<HTMLButtonElement>('button[aria-label="Close the preview"]')?.click();
    expect(panel?.hidden).toBe(true);
    expect(frame?.hasAttribute('src')).toBe(false);
  });

  it('says why previews are unavailable and disables Open', async () => {
    const { view } = mount(Promise.reject(new Error('Port preview needs a Service Worker: open tabdock over https:// or on localhost.')));
    await new Promise((resolve) => setTimeout(resolve, 0));
    view.show([{ hostPort: 8080, containerPort: 80, container: 'web' }]);
    expect(document.querySelector('.ports-note')?.textContent).toMatch(/needs a Service Worker/);
    expect(document.querySelector<HTMLButtonElement>('.ports-open')?.disabled).toBe(true);
    await view.open(8080);
    expect(document.querySelector<HTMLElement>('.preview-panel')?.hidden).toBe(true);
  });
});
