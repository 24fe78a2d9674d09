// Notices when the user's shell finishes a command, so pending lab steps can be re-checked "after each
// command" (issue #6) without a guest change: Enter goes in, then the output ends with bash's prompt again.
// The guest's prompt is PS1='\u@\h:\w\$ ' (vm-images/config/bashrc), e.g. `root@tabdock:~# `.

/** A prompt at the very end of the output: user@host:dir# or $, then one blank. */
const PROMPT_AT_END = /\S+@[\w.-]+:[^\r\n]*[#$] $/;
/** CSI (colours, bracketed-paste mode `ESC[?2004h`) and OSC (window title) sequences, which bash may print around the prompt. */
const ESCAPE_SEQUENCES = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
/** Only the end of the output matters; older text is dropped. */
const TAIL_CHARS = 512;
/** The prompt must stay the last thing printed this long: a command whose output merely looks like a prompt is followed by more. */
export const DEFAULT_SETTLE_MS = 300;

export interface CommandWatchOptions {
  onCommandFinished(): void;
  settleMs?: number;
}

export interface CommandWatch {
  /** Bytes going into the shell (typed, pasted, or a Run button's command). */
  input(data: string | Uint8Array): void;
  /** Bytes coming out of the guest console. */
  output(data: Uint8Array | string): void;
  dispose(): void;
}

export function watchCommands(options: CommandWatchOptions): CommandWatch {
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  const decoder = new TextDecoder();
  let armed = false;
  let tail = '';
  let timer: ReturnType<typeof setTimeout> | undefined;

  const stopTimer = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };

  return {
    input(data) {
      const enter = typeof data === 'string' ? data.includes('\r') || data.includes('\n') : data.includes(13) || data.includes(10);
      if (!enter) return;
      armed = true;
      tail = '';
      stopTimer();
    },
    output(data) {
      const text = typeof data === 'string' ? data : decoder.decode(data, { stream: true });
      if (!armed) return;
      tail = (tail + text).slice(-TAIL_CHARS);
      stopTimer();
      if (!PROMPT_AT_END.test(tail.replace(ESCAPE_SEQUENCES, ''))) return;
      timer = setTimeout(() => {
        timer = undefined;
        armed = false;
        tail = '';
        options.onCommandFinished();
      }, settleMs);
    },
    dispose: stopTimer,
  };
}
