// @vitest-environment jsdom
// The app shell with a fake VM client and terminal (the real ones need a Worker and a canvas): what a feature
// subscribed to hears across a restart, and how failures reach the panels.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { BootResult, VmError } from '../worker/shared/contract.ts';
import { Emitter } from './emitter.ts';
import { VmCallError } from './vm-error.ts';

const vms: FakeVm[] = [];

class FakeVm {
  readonly console = new Emitter<Uint8Array>();
  readonly failure = new Emitter<VmError>();
  readonly onConsole = this.console.event;
  readonly onFailure = this.failure.event;
  readonly onDownload = new Emitter<never>().event;
  readonly onStage = new Emitter<never>().event;
  readonly onStatus = new Emitter<never>().event;
  readonly onNotice = new Emitter<never>().event;
  readonly onListeningSockets = new Emitter<never>().event;
  readonly onEngine = new Emitter<never>().event;
  readonly onCallError = new Emitter<never>().event;
  alive = true;
  terminated = false;
  readonly resizes: [number, number][] = [];
  private settle!: { resolve: (result: BootResult) => void; reject: (thrown: unknown) => void };
  readonly booted = new Promise<BootResult>((resolve, reject) => (this.settle = { resolve, reject }));
  constructor() {
    vms.push(this);
  }
  boot(): Promise<BootResult> {
    return this.booted;
  }
  finishBoot(): void {
    this.settle.resolve({ timeline: {}, steps: {}, restoredFromSnapshot: true, startedFrom: 'boot-snapshot' });
  }
  failBoot(thrown: unknown): void {
    this.settle.reject(thrown);
  }
  resize(cols: number, rows: number): void {
    this.resizes.push([cols, rows]);
  }
  sendInput(): void {}
  terminate(): void {
    this.terminated = true;
    this.alive = false;
  }
}

vi.mock('./vm-client.ts', () => ({ VmClient: FakeVm }));
vi.mock('./terminal.ts', () => ({
  GuestTerminal: class {
    readonly cols = 80;
    readonly rows = 24;
    readonly written: string[] = [];
    readonly notices: string[] = [];
    write(data: Uint8Array): void {
      this.written.push(new TextDecoder().decode(data));
    }
    notice(text: string): void {
      this.notices.push(text);
    }
    reset(): void {}
  },
}));
vi.mock('./browser-check.ts', () => ({ browserProblem: () => undefined }));

const { AppShell } = await import('./app-shell.ts');

function makeShell() {
  document.body.innerHTML = '<div id="progress"></div><div id="errors"></div><div id="terminal"></div>';
  return new AppShell<string>({ page: 'test.html', bootOptions: (request) => ({ assetBase: request ?? 'default/' }) });
}

const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('AppShell', () => {
  beforeEach(() => {
    vms.length = 0;
  });

  it('passes the running VM console on to features, and stops hearing a VM it restarted away from', () => {
    const shell = makeShell();
    const heard: string[] = [];
    shell.onConsole((data) => heard.push(new TextDecoder().decode(data)));
    shell.start();
    vms[0]!.console.fire(bytes('first'));
    shell.restart();
    vms[0]!.console.fire(bytes('stale'));
    vms[1]!.console.fire(bytes('second'));
    expect(heard).toEqual(['first', 'second']);
    expect(vms[0]!.terminated).toBe(true);
    expect((shell.terminal as unknown as { written: string[] }).written).toEqual(['first', 'second']);
  });

  it('tells the VM the terminal size once booted, then features that it started', async () => {
    const shell = makeShell();
    const order: string[] = [];
    shell.onStarted(({ vm }) => order.push(`started, resized ${JSON.stringify((vm as unknown as FakeVm).resizes)}`));
    shell.start();
    vms[0]!.finishBoot();
    await flush();
    expect(order).toEqual(['started, resized [[80,24]]']);
  });

  it('shows a failure once per start however often it arrives, and reports each arrival', async () => {
    const shell = makeShell();
    const failures: string[] = [];
    const shown: string[] = [];
    shell.onFailure((error) => failures.push(error.code));
    shell.onErrorShown((error) => shown.push(error.code));
    const rejected: string[] = [];
    shell.onBootRejected((error) => rejected.push(error.code));
    shell.start();
    const error: VmError = { code: 'boot-timeout', message: 'too slow' };
    vms[0]!.failure.fire(error);
    vms[0]!.failBoot(new VmCallError(error));
    await flush();
    expect(failures.length).toBe(2);
    expect(shown).toEqual(['boot-timeout']);
    expect(rejected.length).toBe(1);
    expect(document.querySelectorAll('#errors [role="alert"]').length).toBe(1);
  });

  it('starts with what restart() was given, and a plain restart with the page default', () => {
    const shell = makeShell();
    const seen: string[] = [];
    const boot = vi.spyOn(FakeVm.prototype, 'boot').mockImplementation(function (this: FakeVm, options?: unknown) {
      seen.push((options as { assetBase: string }).assetBase);
      return this.booted;
    });
    shell.start('first/');
    shell.restart();
    expect(seen).toEqual(['first/', 'default/']);
    boot.mockRestore();
  });
});
