// Bench section `pull` (issues #4, #22): what a `docker pull` costs in the guest and where the time goes.
import { measureTransfer, prepareTransfer } from './pull-transfer.ts';
import type { BenchSection } from './section.ts';

export const pullSection: BenchSection = {
  name: 'pull',
  prepare: (log) => prepareTransfer(log),
  run: (context) => measureTransfer(context),
};
