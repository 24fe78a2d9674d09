import { describe, expect, it } from 'vitest';
import { refusalReason } from './connect-tunnel.ts';
import { familiarName, familiarReference, isFinal, MirrorVerdicts, missingVerdict, platformVerdict, type MirrorVerdict } from './mirror-verdicts.ts';

describe('mirror verdicts', () => {
  it("words a missing manifest and a denied repository as dockerd does, with Docker Hub's familiar names", () => {
    expect(familiarName('library/busybox')).toBe('busybox');
    expect(familiarReference('library/busybox', 'sha256:ab')).toBe('busybox@sha256:ab');
    expect(missingVerdict(404, 'library/nosuchimage', 'latest')).toEqual({
      kind: 'not-found',
      message: 'manifest for nosuchimage:latest not found: manifest unknown: manifest unknown',
    });
    expect(missingVerdict(401, 'someone/private', 'v1')?.message).toMatch(/^pull access denied for someone\/private, repository does not exist or may require 'docker login'/);
    expect(missingVerdict(500, 'library/busybox', 'latest')).toBeUndefined();
    expect(refusalReason('registry-1.docker.io', 443, undefined)).toContain('no relay for registry-1.docker.io:443');
  });

  it('finds an index without linux/386, with the advice, and none when linux/386 is there', () => {
    const verdict = platformVerdict('ubuntu:latest', 'library/ubuntu', ['linux/amd64', 'linux/arm64/v8']);
    expect(verdict).toMatchObject({ kind: 'no-platform', message: 'no matching manifest for linux/386 in the manifest list entries' });
    expect(verdict?.kind === 'no-platform' && verdict.advice).toContain('--platform linux/amd64');
    expect(platformVerdict('busybox:latest', 'library/busybox', ['linux/amd64', 'linux/386'])).toBeUndefined();
  });

  it('calls only a missing tag and a missing platform final: Docker Hub could not answer otherwise', () => {
    const verdicts: MirrorVerdict[] = [
      missingVerdict(404, 'library/x', 'v1')!,
      platformVerdict('x:v1', 'library/x', ['linux/arm64'])!,
      missingVerdict(403, 'library/x', 'v1')!,
      { kind: 'unreachable', message: 'could not reach http://127.0.0.1:9' },
    ];
    expect(verdicts.map((verdict) => [verdict.kind, isFinal(verdict)])).toEqual([
      ['not-found', true],
      ['no-platform', true],
      ['denied', false],
      ['unreachable', false],
    ]);
  });

  it('keeps the last verdict for a minute, until a pull that fits clears it', () => {
    let now = 0;
    const verdicts = new MirrorVerdicts(() => now);
    const first: MirrorVerdict = { kind: 'unreachable', message: 'first' };
    const second: MirrorVerdict = { kind: 'unreachable', message: 'second' };
    verdicts.record(first);
    verdicts.record(second);
    expect(verdicts.current()).toBe(second);
    now = 60_001;
    expect(verdicts.current()).toBeUndefined();
    verdicts.record(first);
    verdicts.clear();
    expect(verdicts.current()).toBeUndefined();
  });
});
