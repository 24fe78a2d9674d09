// The guest's terminal: xterm.js filling its pane, following the pane's size, with clickable links and
// copy/paste. It knows nothing about the VM: bytes in through write(), keystrokes out through onInput.
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import '@xterm/xterm/css/xterm.css';

export interface TerminalHooks {
  /** Text typed or pasted; a paste arrives as one string however long, never one call per byte. */
  onInput(data: string | Uint8Array): void;
  /** The terminal's grid changed size (already debounced). */
  onResize(cols: number, rows: number): void;
}

/** While a window edge is dragged the grid changes on every frame; the guest needs only where it settles. */
const RESIZE_SETTLE_MS = 120;

export class GuestTerminal {
  private readonly term: Terminal;
  private readonly fit = new FitAddon();
  private readonly observer: ResizeObserver;
  private fitFrame = 0;
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly container: HTMLElement,
    hooks: TerminalHooks,
  ) {
    this.term = new Terminal({
      fontFamily: "ui-monospace, 'DejaVu Sans Mono', 'Cascadia Mono', Menlo, Consolas, monospace",
      fontSize: 14,
      lineHeight: 1.15,
      cursorBlink: true,
      scrollback: 5000,
      rightClickSelectsWord: true,
      theme: {
        background: '#0d1117',
        foreground: '#e6edf3',
        cursor: '#e6edf3',
        selectionBackground: '#264f78',
        black: '#484f58',
        red: '#ff7b72',
        green: '#3fb950',
        yellow: '#d29922',
        blue: '#58a6ff',
        magenta: '#bc8cff',
        cyan: '#39c5cf',
        white: '#b1bac4',
        brightBlack: '#6e7681',
        brightRed: '#ffa198',
        brightGreen: '#56d364',
        brightYellow: '#e3b341',
        brightBlue: '#79c0ff',
        brightMagenta: '#d2a8ff',
        brightCyan: '#56d4dd',
        brightWhite: '#f0f6fc',
      },
    });
    this.term.loadAddon(this.fit);
    // The addon's default handler opens links in a new tab with the opener cleared.
    this.term.loadAddon(new WebLinksAddon());
    this.term.attachCustomKeyEventHandler((event) => this.handleClipboardKeys(event));
    this.term.onData((data) => hooks.onInput(data));
    // onBinary carries mouse reports in a byte-per-char string; they are a few bytes long.
    this.term.onBinary((data) => hooks.onInput(Uint8Array.from(data, (ch) => ch.charCodeAt(0) & 0xff)));
    this.term.onResize(({ cols, rows }) => {
      clearTimeout(this.resizeTimer);
      this.resizeTimer = setTimeout(() => hooks.onResize(cols, rows), RESIZE_SETTLE_MS);
    });
    this.term.open(container);
    this.fitNow();
    this.observer = new ResizeObserver(() => this.scheduleFit());
    this.observer.observe(container);
  }

  get cols(): number {
    return this.term.cols;
  }

  get rows(): number {
    return this.term.rows;
  }

  /** Guest console bytes; xterm decodes UTF-8 itself, including sequences split across batches. */
  write(data: Uint8Array): void {
    this.term.write(data);
  }

  /** A message from the page itself (not the guest), set apart in colour on its own line. */
  notice(text: string, tone: 'info' | 'error'): void {
    const colour = tone === 'error' ? '\x1b[1;31m' : '\x1b[36m';
    this.term.write(`\r\n${colour}[tabdock] ${text.replace(/\n/g, '\r\n')}\x1b[0m\r\n`);
  }

  /** A dim `# command` line: what an action taken outside the terminal (the Docker view) stands for. */
  comment(command: string): void {
    this.term.write(`\r\n\x1b[2m# ${command.replace(/[\r\n\x1b]/g, ' ')}\x1b[0m\r\n`);
  }

  focus(): void {
    this.term.focus();
  }

  /** For a restart: the old VM's screen would only confuse. */
  reset(): void {
    this.term.reset();
  }

  dispose(): void {
    this.observer.disconnect();
    cancelAnimationFrame(this.fitFrame);
    clearTimeout(this.resizeTimer);
    this.term.dispose();
  }

  private scheduleFit(): void {
    cancelAnimationFrame(this.fitFrame);
    this.fitFrame = requestAnimationFrame(() => this.fitNow());
  }

  private fitNow(): void {
    // A hidden or zero-sized pane has no dimensions to fit to; the observer fires again once it shows.
    if (this.container.clientWidth === 0 || this.container.clientHeight === 0) return;
    this.fit.fit();
  }

  /**
   * Ctrl+C is the guest's interrupt, so copying uses Ctrl+Shift+C (as GNOME Terminal and VS Code do), and
   * Ctrl+Shift+V / Shift+Insert fall through to the browser's paste, which xterm reads from the paste event.
   * Returning false tells xterm not to handle the key (xterm.d.ts, attachCustomKeyEventHandler).
   */
  private handleClipboardKeys(event: KeyboardEvent): boolean {
    if (event.type !== 'keydown') return true;
    const key = event.key.toLowerCase();
    const copy = (event.ctrlKey && event.shiftKey && key === 'c') || (event.ctrlKey && key === 'insert');
    if (copy) {
      if (this.term.hasSelection()) {
        navigator.clipboard.writeText(this.term.getSelection()).catch((error: unknown) => {
          this.notice(`Copy failed: the browser refused clipboard access (${String(error)}). Use the context menu's Copy instead.`, 'error');
        });
      }
      event.preventDefault();
      return false;
    }
    const paste = (event.ctrlKey && event.shiftKey && key === 'v') || (event.shiftKey && key === 'insert');
    return !paste;
  }
}
