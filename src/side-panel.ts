// The optional left panel: a lab (src/labs) when the page's address names one (`?lab=` or `#lab=`). Without
// one the panel stays hidden and the terminal takes the whole width.
import type { ExecResult } from '../worker/contract.ts';
import { commandAsTyped, loadLabFromLocation, mountLabPanel } from './labs/index.ts';

/** What a lab may do with the VM: type into the user's shell, and run checks out of sight. */
export interface SidePanelVm {
  /** Bytes into the user's shell, as if typed. */
  sendInput(data: string): void;
  exec(command: string, timeoutMs: number): Promise<ExecResult>;
}

export async function mountSidePanel(container: HTMLElement, vm: SidePanelVm): Promise<void> {
  const result = await loadLabFromLocation(window.location);
  if (result.kind === 'none') return;
  const panel = mountLabPanel(container, {
    onRun: (command) => vm.sendInput(commandAsTyped(command)),
    verifyStep: (command, timeoutMs) => vm.exec(command, timeoutMs),
  });
  panel.load(result);
  container.hidden = false;
}
