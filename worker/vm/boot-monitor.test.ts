// Unit tests for reading boot stages and failures from the serial log.
import { describe, expect, it } from 'vitest';
import { BootMonitor, classifySerialLine, type SerialSignal } from './boot-monitor.ts';

describe('classifySerialLine', () => {
  it('maps the guest markers to boot stages with the guest uptime', () => {
    expect(classifySerialLine('[    0.000000] Linux version 6.1.0-28-686 (debian-kernel@lists.debian.org)')).toEqual({
      kind: 'stage',
      stage: 'booting-kernel',
    });
    expect(classifySerialLine('tabdock-stage: init 11.52')).toEqual({ kind: 'stage', stage: 'starting-init', guestUptimeS: 11.52 });
    expect(classifySerialLine('tabdock-stage: containerd 14.1')).toMatchObject({ stage: 'starting-containerd' });
    expect(classifySerialLine('tabdock-stage: dockerd 20')).toMatchObject({ stage: 'starting-docker', guestUptimeS: 20 });
    expect(classifySerialLine('tabdock-stage: ready 45.0')).toMatchObject({ stage: 'ready' });
    expect(classifySerialLine('tabdock-stage: ready')).toEqual({ kind: 'stage', stage: 'ready' });
  });

  it('maps failures to error codes', () => {
    expect(classifySerialLine('tabdock-error: dockerd-failed exited with 1')).toEqual({
      kind: 'failure',
      code: 'dockerd-failed',
      what: 'dockerd-failed',
      reason: 'exited with 1',
    });
    expect(classifySerialLine('tabdock-error: containerd-failed no socket')).toMatchObject({ code: 'dockerd-failed', what: 'containerd-failed' });
    expect(classifySerialLine('[   3.1] Kernel panic - not syncing: VFS: Unable to mount root fs')).toMatchObject({ code: 'kernel-panic' });
    expect(classifySerialLine('an ordinary line')).toEqual({ kind: 'none' });
    expect(classifySerialLine('tabdock-note: docker-api 51.25')).toEqual({ kind: 'note', what: 'docker-api', guestUptimeS: 51.25 });
    expect(classifySerialLine('tabdock-stage: unknown-stage 3')).toEqual({ kind: 'none' });
  });
});

describe('BootMonitor', () => {
  it('reports booting-kernel on the first byte, splits lines, and keeps the last ones', () => {
    const signals: SerialSignal[] = [];
    const monitor = new BootMonitor((s) => signals.push(s), 3);
    for (const byte of new TextEncoder().encode('a\r\nb\ntabdock-stage: init 1.5\nc\nd')) monitor.pushByte(byte);
    expect(signals).toEqual([
      { kind: 'stage', stage: 'booting-kernel' },
      { kind: 'stage', stage: 'starting-init', guestUptimeS: 1.5 },
    ]);
    expect(monitor.lastLines()).toBe('tabdock-stage: init 1.5\nc\nd');
  });
});
