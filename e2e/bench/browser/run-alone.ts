// Lets a browser bench module run by itself (`tsx e2e/bench/browser/pull.ts`): progress on stderr, the JSON
// result on stdout, exit status 1 on failure. bench.ts runs the same functions as sections.
import { pathToFileURL } from 'node:url';

/** Runs `bench` when the module at `moduleUrl` is the script Node was started with. */
export function runAloneIfMain<T>(moduleUrl: string, name: string, bench: (log: (message: string) => void) => Promise<T>): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(process.argv[1]).href) return;
  bench((message) => process.stderr.write(`${name}: ${message}\n`)).then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${name}: failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
