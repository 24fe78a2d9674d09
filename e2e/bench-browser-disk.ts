// Browser disk bench (issue #16): tab memory in Debian's Chromium at the first prompt, after writing 1 GiB in
// the guest, after 20 `docker run`s and after pulling a 300 MB image (from the offline test registry, set as the
// page's Docker Hub upstream mirror, through the preview's CORS proxy), and the session save (Ctrl+S) and resume
// (reload) times with that 1 GiB written. Tab memory = the summed RSS (/proc/PID/status VmRSS) of every process of this Chromium (found
// by its --user-data-dir), minus nothing: browser, GPU, network and renderer processes together, as a user's
// task manager would add them up. performance.measureUserAgentSpecificMemory() needs a cross-origin isolated
// page, which tabdock is not, so it is not used. The Node bench calls runBrowserDiskBench() (section
// "browserDisk"); `npx tsx e2e/bench-browser-disk.ts` runs it alone.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from '@playwright/test';
import { build, preview } from 'vite';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE } from '../playwright.config.ts';
import { BENCH_PORT, countBytes, measureVisit, type ByteCounter } from './bench-browser.ts';
import { failureOnPage, visibleLines, waitFor } from './bench/page-driver.ts';
import { NET_SETTINGS_KEY, saveNetSettings } from '../src/net-settings.ts';
import { extendOciLayout } from '../worker/net/testing/oci-layout.mts';
import { pushLayout, startRegistry } from '../worker/net/testing/registry.mts';

/** The image pulled at the end: busybox's layer plus one of this many random bytes (as the Node disk bench). */
const PULL_BYTES = 300 * 1024 * 1024;
const PULL_REPOSITORY = 'library/disk-bench';

const COMMAND_TIMEOUT_MS = 30 * 60_000;

/**
 * Summed RSS and summed PSS of the processes whose command line names this profile directory. RSS counts a page
 * shared by several of them (Chromium's own code, shared memory between renderer, GPU and browser) once per
 * process; PSS (/proc/PID/smaps_rollup) divides each shared page among the processes that map it, so the PSS
 * sum is what the browser really holds. Both are reported; the figures were RSS.
 */
async function chromiumMemory(profileDir: string): Promise<{ bytes: number; pssBytes: number; processes: number }> {
  let bytes = 0;
  let pssBytes = 0;
  let processes = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes(`--user-data-dir=${profileDir}`)) continue;
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
      const pssKib = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0);
      bytes += kib * 1024;
      pssBytes += pssKib * 1024;
      processes++;
    } catch {
      // The process ended between listing and reading: it holds no memory any more.
    }
  }
  return { bytes, pssBytes, processes };
}

/** Types a command and waits for its marker line (`$((...))` keeps the echoed command line from matching). */
async function runInTerminal(page: Page, command: string, label: string): Promise<number> {
  const marker = `${label}-2-done`;
  await page.locator('#terminal').click();
  await page.keyboard.type(`${command} && echo ${label}-$((1+1))-done`);
  const started = performance.now();
  await page.keyboard.press('Enter');
  await waitFor(label, COMMAND_TIMEOUT_MS, async () => {
    const failure = await failureOnPage(page);
    if (failure) throw new Error(`browser disk bench: the page reported an error during ${label}:\n${failure}`);
    return (await visibleLines(page)).includes(marker);
  });
  return Math.round(performance.now() - started);
}

export interface BrowserDiskBenchResult {
  method: string;
  beforePageBytes: number;
  atPromptBytes: number;
  afterWrite1GiBBytes: number;
  write1GiBMs: number;
  saveMs: number;
  saveMessage: string;
  resumePromptMs: number;
  afterResumeBytes: number;
  after20DockerRunsBytes: number;
  dockerRuns20Ms: number;
  afterPull300MBBytes: number;
  pull300MBMs: number;
  pullLayerBytes: number;
  chromiumProcesses: number;
  /** The same moments as summed PSS (see chromiumMemory). */
  pssBytes: { beforePage: number; atPrompt: number; afterWrite1GiB: number; afterResume: number; after20DockerRuns: number; afterPull300MB: number };
}

export async function runBrowserDiskBench(log: (message: string) => void = () => {}): Promise<BrowserDiskBenchResult> {
  log('building the site');
  await build({ logLevel: 'warn' });
  // The 300 MB image, in a registry on 127.0.0.1 that the page uses as its Docker Hub upstream mirror.
  const workDir = await mkdtemp(path.join(tmpdir(), 'tabdock-bench-disk-'));
  const registry = await startRegistry();
  const image = await extendOciLayout(path.join('public', 'vm', 'test-images', 'busybox'), path.join(workDir, 'layout'), 'v1', { 'random.bin': randomBytes(PULL_BYTES) });
  await pushLayout(image.layoutDir, 'v1', registry.host, PULL_REPOSITORY);
  const mirror = `http://${registry.host}`;
  const allowBefore = process.env['TABDOCK_PROXY_ALLOW'];
  // The preview's CORS proxy reads its allow-list when it starts.
  process.env['TABDOCK_PROXY_ALLOW'] = [allowBefore, mirror].filter(Boolean).join(',');
  const counter: ByteCounter = { bytes: 0, requests: 0, byPath: new Map() };
  const server = await preview({ logLevel: 'warn', preview: { port: BENCH_PORT, strictPort: true }, plugins: [countBytes(counter)] });
  const profileDir = await mkdtemp(path.join(tmpdir(), 'tabdock-bench-disk-profile-'));
  const profile = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM_EXECUTABLE, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 } });
  try {
    const url = server.resolvedUrls?.local[0] ?? `http://localhost:${BENCH_PORT}/`;
    // The settings the Network dialog would save, in its own format, before the page first reads them.
    const stored = new Map<string, string>();
    saveNetSettings({ getItem: (key) => stored.get(key) ?? null, setItem: (key, value) => void stored.set(key, value), removeItem: (key) => void stored.delete(key) }, { upstreamMirror: mirror });
    await profile.addInitScript(([key, value]) => window.localStorage.setItem(key, value), [NET_SETTINGS_KEY, stored.get(NET_SETTINGS_KEY)!] as const);
    const page = await profile.newPage();
    const beforePage = await chromiumMemory(profileDir);
    await measureVisit(page, url, counter, log, 'disk bench visit');
    const atPrompt = await chromiumMemory(profileDir);
    log(`tab memory at the prompt: ${atPrompt.bytes} bytes RSS, ${atPrompt.pssBytes} PSS, in ${atPrompt.processes} processes (${beforePage.bytes} / ${beforePage.pssBytes} before the page)`);

    const write1GiBMs = await runInTerminal(page, 'dd if=/dev/urandom of=/root/big bs=1M count=1024 status=none && sync', 'write');
    const afterWrite = await chromiumMemory(profileDir);
    log(`1 GiB written in ${write1GiBMs} ms; tab memory ${afterWrite.bytes} bytes RSS, ${afterWrite.pssBytes} PSS`);

    const saveStarted = performance.now();
    await page.keyboard.press('Control+s');
    await waitFor('the session to be saved', COMMAND_TIMEOUT_MS, async () => /Saved \d+ MB/.test(await page.locator('.session-message').innerText()));
    const saveMs = Math.round(performance.now() - saveStarted);
    const saveMessage = await page.locator('.session-message').innerText();
    log(`saved in ${saveMs} ms: ${saveMessage}`);

    const resumed = await measureVisit(page, url, counter, log, 'resume after reload');
    const afterResume = await chromiumMemory(profileDir);

    const dockerRuns20Ms = await runInTerminal(page, 'for i in $(seq 1 20); do docker run --rm busybox true || exit 1; done', 'runs');
    const afterRuns = await chromiumMemory(profileDir);
    log(`20 docker runs in ${dockerRuns20Ms} ms; tab memory ${afterRuns.bytes} bytes`);

    const pull300MBMs = await runInTerminal(page, `docker pull -q ${PULL_REPOSITORY.replace(/^library\//, '')}:v1 && sync`, 'pull');
    const afterPull = await chromiumMemory(profileDir);
    log(`300 MB image pulled in ${pull300MBMs} ms; tab memory ${afterPull.bytes} bytes`);
    return {
      method: 'sum of VmRSS (and, in pssBytes, of Pss from smaps_rollup) over the Chromium processes of this profile (/proc); measureUserAgentSpecificMemory needs cross-origin isolation',
      beforePageBytes: beforePage.bytes,
      atPromptBytes: atPrompt.bytes,
      afterWrite1GiBBytes: afterWrite.bytes,
      write1GiBMs,
      saveMs,
      saveMessage,
      resumePromptMs: resumed.firstPromptMs,
      afterResumeBytes: afterResume.bytes,
      after20DockerRunsBytes: afterRuns.bytes,
      dockerRuns20Ms,
      afterPull300MBBytes: afterPull.bytes,
      pull300MBMs,
      pullLayerBytes: image.layerBytes,
      chromiumProcesses: afterPull.processes,
      pssBytes: {
        beforePage: beforePage.pssBytes,
        atPrompt: atPrompt.pssBytes,
        afterWrite1GiB: afterWrite.pssBytes,
        afterResume: afterResume.pssBytes,
        after20DockerRuns: afterRuns.pssBytes,
        afterPull300MB: afterPull.pssBytes,
      },
    };
  } finally {
    await profile.close();
    await rm(profileDir, { recursive: true, force: true });
    await server.close();
    await registry.stop();
    await rm(workDir, { recursive: true, force: true });
    if (allowBefore === undefined) delete process.env['TABDOCK_PROXY_ALLOW'];
    else process.env['TABDOCK_PROXY_ALLOW'] = allowBefore;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runBrowserDiskBench((message) => process.stderr.write(`bench-browser-disk: ${message}\n`)).then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`bench-browser-disk: failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
