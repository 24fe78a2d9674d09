// Turns a lab's frontmatter (files, images, setup commands) into one POSIX sh script, shown to the user before
// it runs and run only when they press "Run setup". File contents travel base64-encoded, so no byte of a lab
// file can end a quote or a heredoc early.
import { encodeBase64 } from '../../worker/shared/base64.ts';
import { shellQuote } from '../shell-quote.ts';
import type { Lab } from './lab-format.ts';

function base64Utf8(text: string): string {
  return encodeBase64(new TextEncoder().encode(text));
}

function parentDir(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

export function hasSetup(lab: Pick<Lab, 'files' | 'images' | 'setup'>): boolean {
  return lab.files.length > 0 || lab.images.length > 0 || lab.setup.length > 0;
}

/** One line of what setup does; a file it writes comes with its content, which the panel can show. */
export interface SetupItem {
  text: string;
  fileContent?: string;
}

/** A human-readable list of what setup does, for the panel. */
export function describeSetup(lab: Pick<Lab, 'files' | 'images' | 'setup'>): SetupItem[] {
  return [
    ...lab.images.map((image) => ({ text: `make sure the image ${image} is present (pulled if missing)` })),
    ...lab.files.map((file) => ({ text: `write ${file.path}${file.mode ? ` (mode ${file.mode})` : ''}`, fileContent: file.content })),
    ...lab.setup.map((command) => ({ text: `run: ${command}` })),
  ];
}

/**
 * The script: stop at the first failure (`set -e`), write files, make images present, run setup commands.
 * Images already on the machine are not pulled again: the guest has no Docker Hub access in offline setups.
 */
export function buildSetupScript(lab: Pick<Lab, 'files' | 'images' | 'setup'>): string {
  const lines = ['set -e'];
  for (const file of lab.files) {
    lines.push(`mkdir -p ${shellQuote(parentDir(file.path))}`);
    lines.push(`printf '%s' ${shellQuote(base64Utf8(file.content))} | base64 -d > ${shellQuote(file.path)}`);
    if (file.mode) lines.push(`chmod ${file.mode} ${shellQuote(file.path)}`);
  }
  for (const image of lab.images) {
    lines.push(`docker image inspect ${shellQuote(image)} >/dev/null 2>&1 || docker pull ${shellQuote(image)}`);
  }
  // Each setup command runs in its own subshell so a `cd` in one does not leak into the next.
  for (const command of lab.setup) lines.push(`( ${command}\n)`);
  return `${lines.join('\n')}\n`;
}
