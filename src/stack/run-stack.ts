// What Run does in the guest, once the reader accepted the file: the file is written to /root/stacks/<project>/
// through the guest agent, then `docker compose up -d` is typed into the terminal, where the reader sees it run.
import { shellQuote } from '../shell-quote.ts';
import { uploadChunkCommand } from '../files/guest-files.ts';
import { commandAsTyped } from '../labs/terminal-input.ts';
import type { StackFile } from './parse-stack.ts';

export type StackExec = (command: string, timeoutMs: number) => Promise<{ output: string; exitCode: number }>;

export interface StackRunDeps {
  exec: StackExec;
  /** Bytes into the reader's shell, as if typed (the command is typed as a lab's Run types it). */
  sendInput(data: string): void;
}

const WRITE_TIMEOUT_MS = 60_000;

export function stackDirectory(file: Pick<StackFile, 'project'>): string {
  return `/root/stacks/${file.project}`;
}

/** The command typed into the terminal; shown in the panel before Run, exactly as it will be typed. */
export function upCommand(file: Pick<StackFile, 'project'>): string {
  return `cd ${shellQuote(stackDirectory(file))} && docker compose up -d`;
}

export type RunOutcome = { ok: true; path: string } | { ok: false; message: string; detail: string };

export async function runStack(file: StackFile, deps: StackRunDeps): Promise<RunOutcome> {
  const directory = stackDirectory(file);
  const path = `${directory}/compose.yaml`;
  const write = `mkdir -p ${shellQuote(directory)} && ${uploadChunkCommand(path, new TextEncoder().encode(file.text), true)}`;
  let result: { output: string; exitCode: number };
  try {
    result = await deps.exec(write, WRITE_TIMEOUT_MS);
  } catch (error) {
    return { ok: false, message: `The Compose file could not be written into the machine (${error instanceof Error ? error.message : String(error)}). Wait for the VM to finish booting, then press Run again.`, detail: String(error) };
  }
  if (result.exitCode !== 0) {
    return { ok: false, message: `Writing ${path} in the machine failed (exit code ${result.exitCode}); nothing was started. Free space in the guest (\`docker system prune\`), then press Run again.`, detail: result.output };
  }
  deps.sendInput(commandAsTyped(upCommand(file)));
  return { ok: true, path };
}
