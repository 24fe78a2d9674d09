// Emulator settings for measurements (EmulatorTuning) read from text settings: the page's query string and
// the Node harness's environment name them differently and treat a bad value differently; the reading is one.
import type { EmulatorTuning } from './contract.ts';

/** Each setting's name where it is read from; a setting without a name is not offered there. */
export interface TuningSettingNames {
  jitThreshold: string;
  jitMaxPages: string;
  jitMaxExtraBasicBlocks: string;
  jitSyncCompile: string;
  diskPrefetch: string;
  yield?: string;
}

export interface TuningSettingSource {
  names: TuningSettingNames;
  /** A setting's text; undefined, null or '' when it is not set. */
  read(name: string): string | null | undefined;
  /** A set value that is not valid (`expected` says what is): ignore it (return) or throw. */
  invalid(name: string, text: string, expected: string): void;
}

const YIELD_MODES = ['channel', 'helper'] as const;

export function readTuningSettings(source: TuningSettingSource): EmulatorTuning {
  const { names } = source;
  const text = (name: string): string | undefined => {
    const value = source.read(name);
    return value === null || value === undefined || value === '' ? undefined : value;
  };
  const whole = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    const number = Number(value);
    if (Number.isInteger(number) && number > 0) return number;
    source.invalid(name, value, 'a positive whole number');
    return undefined;
  };
  const flag = (name: string): boolean | undefined => {
    const value = text(name);
    if (value === '0' || value === '1') return value === '1';
    if (value !== undefined) source.invalid(name, value, '0 or 1');
    return undefined;
  };
  const tuning: EmulatorTuning = {};
  const threshold = whole(names.jitThreshold);
  if (threshold !== undefined) tuning.jitThreshold = threshold;
  const maxPages = whole(names.jitMaxPages);
  if (maxPages !== undefined) tuning.jitMaxPages = maxPages;
  const maxExtraBlocks = whole(names.jitMaxExtraBasicBlocks);
  if (maxExtraBlocks !== undefined) tuning.jitMaxExtraBasicBlocks = maxExtraBlocks;
  const sync = flag(names.jitSyncCompile);
  if (sync !== undefined) tuning.jitSyncCompile = sync;
  if (names.yield !== undefined) {
    const mode = text(names.yield);
    if (mode === 'channel' || mode === 'helper') tuning.yield = mode;
    else if (mode !== undefined) source.invalid(names.yield, mode, YIELD_MODES.join(' or '));
  }
  const prefetch = flag(names.diskPrefetch);
  if (prefetch !== undefined) tuning.diskPrefetch = prefetch;
  return tuning;
}
