// The bundled labs, checked as far as possible without a guest: every command, verify and setup script is
// valid POSIX sh (`sh -n`), placed files land where the steps expect them, compose files are YAML.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { parse as parseYaml } from 'yaml';
import { EXAMPLE_LABS } from './index.ts';
import { parseLab } from '../parse-lab.ts';
import { buildSetupScript } from '../lab-setup.ts';
import type { Lab } from '../lab-format.ts';

function syntaxError(script: string): string {
  const result = spawnSync('/bin/sh', ['-n'], { input: script, encoding: 'utf8' });
  return result.status === 0 ? '' : `${result.stderr}\n--- in ---\n${script}`;
}

function lab(source: string): Lab {
  const result = parseLab(source);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.lab;
}

describe.each(EXAMPLE_LABS.map((example) => [example.id, lab(example.source)] as const))('example lab %s', (_id, parsed) => {
  it('has sh-valid runnable blocks, verify commands and setup script', () => {
    for (const step of parsed.steps) {
      for (const block of step.blocks.filter((candidate) => candidate.runnable)) expect(syntaxError(block.code)).toBe('');
      if (step.verify !== null) expect(syntaxError(step.verify)).toBe('');
    }
    expect(syntaxError(buildSetupScript(parsed))).toBe('');
  });

  it('places files only under /root/lab, and compose files parse as YAML', () => {
    for (const file of parsed.files) {
      expect(file.path.startsWith('/root/lab/')).toBe(true);
      if (file.path.endsWith('.yml')) expect(() => parseYaml(file.content)).not.toThrow();
    }
  });

  it('runs only images that exist offline in the guest (or that the lab builds)', () => {
    const commands = parsed.steps.flatMap((step) => [...step.blocks.map((block) => block.code), step.verify ?? '']);
    const images = commands.flatMap(runImages);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(['busybox', 'tabdock/httpd', 'hello-lab', 'hello-lab:v2']).toContain(image);
  });
});

/** The image of each `docker run` in a command line: the first word after `run` that is not an option. */
function runImages(command: string): string[] {
  const valued = new Set(['--name', '--network', '-p', '-e', '-v', '-w', '--entrypoint', '--label']);
  const images: string[] = [];
  for (const match of command.matchAll(/docker run((?:\s+\S+)+)/g)) {
    const words = (match[1] ?? '').trim().split(/\s+/);
    for (let index = 0; index < words.length; index += 1) {
      const word = words[index] ?? '';
      if (valued.has(word)) index += 1;
      else if (!word.startsWith('-')) {
        images.push(word);
        break;
      }
    }
  }
  return images;
}
