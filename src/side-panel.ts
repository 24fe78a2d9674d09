// The optional left panel: a lab (src/labs) when the page's address names one (`?lab=` or `#lab=`), or the
// lab editor with `?author`. Without either the panel stays hidden and the terminal takes the whole width.
// It also watches the terminal, so pending steps are re-checked each time the user's command finishes.
import type { ExecResult } from '../worker/shared/contract.ts';
import { commandAsTyped, loadLabFromLocation, mountLabAuthor, mountLabPanel, watchCommands, type LabPanelHandle } from './labs/index.ts';
import { el } from './dom.ts';

/** What a lab may do with the VM: type into the user's shell, and run checks out of sight. */
export interface SidePanelVm {
  /** Bytes into the user's shell, as if typed. */
  sendInput(data: string): void;
  exec(command: string, timeoutMs: number): Promise<ExecResult>;
}

export interface SidePanel {
  /** Everything typed into the terminal (the page's terminal onInput). */
  input(data: string | Uint8Array): void;
  /** Everything the guest console prints. */
  output(data: Uint8Array): void;
  /** Settles once the lab (or the editor) is on screen, or it is clear there is none. */
  ready: Promise<LabPanelHandle | null>;
}

/**
 * Whether the address opens a lab or the lab editor (`?lab=`, `#lab=`, `?author`). Such a page boots without
 * the background warm-up (BootOptions.warmUp): a lab's setup and checks run in the guest from the start, and a
 * check must never see the warm-up's container.
 */
export function labRequestedIn(location: Location): boolean {
  const params = new URLSearchParams(location.search);
  return params.has('lab') || params.has('author') || /(^#|&)lab=/.test(location.hash);
}

export function mountSidePanel(container: HTMLElement, vm: SidePanelVm): SidePanel {
  let panel: LabPanelHandle | null = null;
  const watch = watchCommands({ onCommandFinished: () => void panel?.recheck() });
  const typeCommand = (command: string): void => {
    const typed = commandAsTyped(command);
    watch.input(typed);
    vm.sendInput(typed);
  };

  function ensurePanel(): LabPanelHandle {
    if (panel) return panel;
    const panelBox = el('div', 'side-panel-lab');
    container.replaceChildren(panelBox);
    panel = mountLabPanel(panelBox, {
      onRun: typeCommand,
      verifyStep: (command, timeoutMs) => vm.exec(command, timeoutMs),
    });
    container.hidden = false;
    return panel;
  }

  async function mount(): Promise<LabPanelHandle | null> {
    const authoring = new URLSearchParams(window.location.search).has('author');
    const result = await loadLabFromLocation(window.location);
    if (result.kind === 'none' && !authoring) return null;
    const shown = ensurePanel();
    shown.load(result);
    if (authoring) mountAuthorMode(container, shown, result.kind === 'loaded' ? result.loaded.lab.source : undefined, typeCommand);
    return shown;
  }

  // A `#lab=` address entered on an open page (pasted into the address bar, or a same-page link) changes only
  // the fragment, so the page does not reload: load the new lab here. `?lab=` wins over `#lab=`, so only
  // without it.
  window.addEventListener('hashchange', () => {
    if (new URLSearchParams(window.location.search).has('lab')) return;
    void loadLabFromLocation(window.location).then((result) => {
      if (result.kind !== 'none') ensurePanel().load(result);
    });
  });

  return {
    input: (data) => watch.input(data),
    output: (data) => watch.output(data),
    ready: mount(),
  };
}

/**
 * `?author`: the editor with its live preview fills the panel; "Open in panel" shows the draft in the real
 * lab panel (Run, Check and Setup against the machine) and "Back to the editor" returns.
 */
function mountAuthorMode(container: HTMLElement, panel: LabPanelHandle, initialSource: string | undefined, onRun: (command: string) => void): void {
  const panelBox = container.querySelector<HTMLElement>('.side-panel-lab') ?? container;
  const authorBox = el('div', 'side-panel-author');
  const back = el('button', 'side-panel-back', 'Back to the editor');
  const showEditor = (editing: boolean): void => {
    authorBox.hidden = !editing;
    panelBox.hidden = editing;
    back.hidden = editing;
    container.classList.toggle('side-panel-wide', editing);
  };
  back.addEventListener('click', () => showEditor(true));
  container.replaceChildren(authorBox, back, panelBox);
  mountLabAuthor(authorBox, {
    ...(initialSource === undefined ? {} : { initialSource }),
    onRun,
    onOpen: (lab) => {
      panel.show({ lab, origin: { kind: 'inline' } });
      showEditor(false);
    },
  });
  showEditor(true);
}
