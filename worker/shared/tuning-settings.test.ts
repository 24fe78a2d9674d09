import { describe, expect, it } from 'vitest';
import { readTuningSettings, type TuningSettingNames } from './tuning-settings.ts';

const NAMES: TuningSettingNames = { jitThreshold: 'T', jitMaxPages: 'P', jitMaxExtraBasicBlocks: 'B', jitSyncCompile: 'S', diskPrefetch: 'F', yield: 'Y' };

function read(settings: Record<string, string>, invalid: (name: string, text: string, expected: string) => void = () => undefined) {
  return readTuningSettings({ names: NAMES, read: (name) => settings[name], invalid });
}

describe('readTuningSettings', () => {
  it('reads every setting under the names it is given', () => {
    expect(read({ T: '800000', P: '3', B: '250', S: '0', F: '1', Y: 'helper' })).toEqual({
      jitThreshold: 800000,
      jitMaxPages: 3,
      jitMaxExtraBasicBlocks: 250,
      jitSyncCompile: false,
      diskPrefetch: true,
      yield: 'helper',
    });
  });

  it('leaves unset and empty settings at their defaults', () => {
    expect(read({ T: '', S: '' })).toEqual({});
  });

  it('reports each bad value with what was expected, and keeps the default', () => {
    const reported: string[] = [];
    const tuning = read({ T: '-5', P: '2.5', S: 'yes', Y: 'thread' }, (name, text, expected) => reported.push(`${name}=${text}: ${expected}`));
    expect(tuning).toEqual({});
    expect(reported).toEqual(['T=-5: a positive whole number', 'P=2.5: a positive whole number', 'S=yes: 0 or 1', 'Y=thread: channel or helper']);
  });

  it('offers yield only where it has a name', () => {
    const { yield: _yield, ...withoutYield } = NAMES;
    expect(readTuningSettings({ names: withoutYield, read: (name) => ({ Y: 'helper', yield: 'helper' })[name], invalid: () => undefined })).toEqual({});
  });
});
