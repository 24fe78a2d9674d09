// Bench section `pull` (issues #4, #22): what a `docker pull` costs in the guest and where the time goes. The
// real-sized images (pull-real.ts) come from a registry on 127.0.0.1 set as the Docker Hub upstream, so
// `docker pull nginx` goes through the mirror path a page uses; the transfer figures (pull-transfer.ts) use
// their own registry under the name bench.test.
import { startBenchRegistry, type BenchRegistry } from './pull-images.ts';
import { measureLevers } from './pull-levers.ts';
import { NODE_PULL_CASES } from './pull-real.ts';
import { measureTransfer, prepareTransfer } from './pull-transfer.ts';
import type { BenchSection } from './section.ts';

let bench: BenchRegistry | undefined;

export const pullSection: BenchSection = {
  name: 'pull',
  async prepare(log) {
    bench = await startBenchRegistry(log);
    const transfer = await prepareTransfer(log);
    return {
      network: { ...transfer.network, dockerHubUpstream: bench.mirror },
      async dispose() {
        await transfer.dispose();
        await bench?.registry.stop();
      },
    };
  },
  async run(context) {
    if (!bench) throw new Error('pull section was not prepared');
    const results: Record<string, unknown> = {};
    for (const pullCase of NODE_PULL_CASES) {
      try {
        results[pullCase.name] = await pullCase.run(context, bench);
      } catch (error) {
        // One failing case must not lose the others' figures.
        results[pullCase.name] = { error: error instanceof Error ? error.message : String(error) };
        context.log(`pull: ${pullCase.name} failed: ${String(error)}`);
      }
    }
    results['levers'] = await measureLevers(context, bench);
    results['transfer'] = await measureTransfer(context);
    return results;
  },
};
