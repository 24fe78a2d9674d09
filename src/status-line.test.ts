// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { StatusLine } from './status-line.ts';

describe('status line', () => {
  it('names where the start went, in time order, in the tooltip', () => {
    const root = document.createElement('div');
    const status = new StatusLine(root);
    status.update({ state: 'running', memoryBytes: 1024 ** 3, restoredFromSnapshot: true });
    status.booted('boot-snapshot', 4400, { 'guest-answered': 4400, 'state-read': 900, 'state-loaded': 2100, 'emulator-loaded': 1000 });
    expect(root.textContent).toContain('restored from snapshot');
    expect(root.title).toBe('state read 0.9 s · emulator up 1.0 s · state loaded 2.1 s · guest answered 4.4 s');
    status.reset();
    expect(root.hasAttribute('title')).toBe(false);
  });

  it('a cold boot has no restore steps and no tooltip', () => {
    const root = document.createElement('div');
    new StatusLine(root).booted('cold-boot', 60_000, {});
    expect(root.hasAttribute('title')).toBe(false);
  });
});
