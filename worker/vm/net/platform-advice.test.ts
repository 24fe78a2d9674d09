import { describe, expect, it } from 'vitest';
import { hasNativePlatform, indexPlatforms, platformAdvice } from './platform-advice.ts';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const index = (entries: unknown[]) => new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, manifests: entries }));
const entry = (architecture: string, variant?: string, os = 'linux') => ({ platform: { os, architecture, ...(variant ? { variant } : {}) } });

describe('indexPlatforms', () => {
  it("lists an index's platforms with variants, once each, without attestation entries", () => {
    const ubuntu = index([entry('amd64'), entry('unknown', undefined, 'unknown'), entry('arm', 'v7'), entry('arm64', 'v8'), entry('amd64'), entry('riscv64')]);
    expect(indexPlatforms(OCI_INDEX, ubuntu)).toEqual(['linux/amd64', 'linux/arm/v7', 'linux/arm64/v8', 'linux/riscv64']);
    expect(indexPlatforms('application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8', ubuntu)).toHaveLength(4);
  });

  it('answers undefined for a manifest that is not an index, and for bytes that are not an index', () => {
    expect(indexPlatforms('application/vnd.oci.image.manifest.v1+json', index([entry('amd64')]))).toBeUndefined();
    expect(indexPlatforms(OCI_INDEX, new TextEncoder().encode('not json'))).toBeUndefined();
    expect(indexPlatforms(OCI_INDEX, new TextEncoder().encode('{"manifests": 3}'))).toBeUndefined();
    expect(indexPlatforms(OCI_INDEX, index([{ platform: { os: 7 } }, null]))).toEqual([]);
  });

  it('counts linux/386 with or without a variant as native', () => {
    expect(hasNativePlatform(['linux/amd64', 'linux/386'])).toBe(true);
    expect(hasNativePlatform(['linux/386/sse2'])).toBe(true);
    expect(hasNativePlatform(['linux/amd64', 'windows/386x'])).toBe(false);
  });
});

describe('platformAdvice', () => {
  it('for ubuntu: its platforms, the emulated way out and debian', () => {
    const advice = platformAdvice('ubuntu:latest', 'library/ubuntu', ['linux/amd64', 'linux/arm/v7', 'linux/arm64/v8']);
    expect(advice).toContain('ubuntu:latest has no linux/386 image (it has linux/amd64, linux/arm/v7, linux/arm64/v8)');
    expect(advice).toContain('linux/amd64 emulated, about 5x slower: add --platform linux/amd64');
    expect(advice).toContain('platform: linux/amd64');
    expect(advice).toContain('debian');
    expect(advice).not.toMatch(/\n/);
  });

  it('for an image outside the table: the general advice, naming images that have linux/386', () => {
    const advice = platformAdvice('someone/tool:v2', 'someone/tool', ['linux/amd64']);
    expect(advice).toContain('--platform linux/amd64');
    expect(advice).toMatch(/look for an image or tag with linux\/386 .*alpine/);
    // Only official images are looked up: a user's repository named like one is not.
    expect(platformAdvice('me/ubuntu:1', 'me/ubuntu', ['linux/amd64'])).not.toContain('the same apt');
  });

  it('for an image with neither linux/386 nor linux/amd64: says tabdock cannot run it and names what it has', () => {
    const advice = platformAdvice('armonly:v1', 'library/armonly', ['linux/arm64', 'linux/arm/v7']);
    expect(advice).toContain('armonly:v1 has neither a linux/386 nor a linux/amd64 image (it has linux/arm64, linux/arm/v7), so tabdock cannot run it');
    expect(advice).not.toContain('--platform');
    expect(platformAdvice('empty:v1', 'library/empty', [])).toContain('(it has no platform entries)');
  });
});
