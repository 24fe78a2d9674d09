import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchCommands } from './command-watch.ts';

const PROMPT = 'root@tabdock:~# ';
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('watchCommands', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function setup() {
    const finished = vi.fn();
    const watch = watchCommands({ onCommandFinished: finished, settleMs: 300 });
    return { finished, watch };
  }

  it('reports a command once, when the prompt comes back after Enter and stays last', () => {
    const { finished, watch } = setup();
    watch.input('l');
    watch.output(bytes('l'));
    watch.input('s');
    watch.output(bytes('s'));
    vi.advanceTimersByTime(1000);
    expect(finished).not.toHaveBeenCalled();
    watch.input('\r');
    watch.output(bytes('\r\nfile.txt\r\n'));
    vi.advanceTimersByTime(1000);
    expect(finished).not.toHaveBeenCalled();
    watch.output(bytes(`\x1b[?2004h${PROMPT}`));
    vi.advanceTimersByTime(299);
    expect(finished).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(finished).toHaveBeenCalledTimes(1);
    // More output without a new Enter (a background job's line, a redrawn prompt) reports nothing.
    watch.output(bytes(`\r\n${PROMPT}`));
    vi.advanceTimersByTime(1000);
    expect(finished).toHaveBeenCalledTimes(1);
  });

  it('does not report output that only looks like a prompt when more follows at once', () => {
    const { finished, watch } = setup();
    watch.input('cat prompts.txt\r');
    watch.output(bytes('\r\nuser@host:/tmp$ '));
    vi.advanceTimersByTime(100);
    watch.output(bytes('and more text\r\n'));
    vi.advanceTimersByTime(1000);
    expect(finished).not.toHaveBeenCalled();
    watch.output(bytes(PROMPT));
    vi.advanceTimersByTime(300);
    expect(finished).toHaveBeenCalledTimes(1);
  });

  it('reports a Run button command (Ctrl-U, the command, CR) and a prompt split across batches', () => {
    const { finished, watch } = setup();
    watch.input('\u0015docker ps\r');
    watch.output(bytes('\r\nCONTAINER ID   IMAGE\r\nroot@tab'));
    watch.output(bytes('dock:/srv/app# '));
    vi.advanceTimersByTime(300);
    expect(finished).toHaveBeenCalledTimes(1);
  });

  it('reports nothing while a command still runs, and nothing after dispose', () => {
    const { finished, watch } = setup();
    watch.input(bytes('sleep 100\r'));
    watch.output(bytes('\r\n'));
    vi.advanceTimersByTime(10_000);
    expect(finished).not.toHaveBeenCalled();
    watch.output(bytes(PROMPT));
    watch.dispose();
    vi.advanceTimersByTime(1000);
    expect(finished).not.toHaveBeenCalled();
  });
});
