// The registry endpoint the guest's dockerd pulls from: answers the OCI distribution pull API on plain HTTP,
// picks the real registry from the Host header, does the token dance itself and streams blobs back.
// Routes and headers follow the OCI distribution spec ("Pulling manifests", "Pulling blobs", "Error codes").
import { readBody } from '../bytes.ts';
import { headerValue, type Http1Request } from './http1.ts';
import { TokenCache, TokenError, parseBearerChallenge } from './registry-auth.ts';
import { mapUpstreamFailure, registryError, upstreamUnavailable, type ResourceKind } from './registry-errors.ts';
import { type Upstream, UpstreamError } from './upstream.ts';
import { familiarReference, missingVerdict, platformVerdict, type MirrorVerdicts } from './mirror-verdicts.ts';
import { indexPlatforms } from './platform-advice.ts';
import { blobOffsetBytes, blobTotalBytes, LayerProgressTracker, type LayerProgressSink } from './layer-progress.ts';

export interface RegistryMirrorConfig {
  /** Names under which dockerd reaches the Docker Hub mirror (its daemon.json `registry-mirrors` entry). */
  mirrorHosts?: readonly string[];
  /** Docker Hub's registry, or a replacement such as `mirror.gcr.io` or a company mirror. */
  dockerHubUpstream?: string;
  /**
   * Guest-visible registry host -> upstream origin, e.g. `{"registry.test:5000": "http://127.0.0.1:40123"}`.
   * Hosts not listed are reached as `https://<host>`.
   */
  hostRewrites?: Readonly<Record<string, string>>;
  /** Manifests are buffered to compute their digest; bigger ones are refused. */
  maxManifestBytes?: number;
  /** Where Docker Hub manifests the guest cannot have are noted, for dockerd's next endpoint (mirror-verdicts.ts). */
  verdicts?: MirrorVerdicts;
  /** Told the bytes of each layer blob as it streams to dockerd (the Docker view's pull progress). */
  onLayerProgress?: LayerProgressSink;
}

export const DEFAULT_MIRROR_HOST = 'mirror.tabdock.internal';
const DOCKER_HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const DEFAULT_MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

// OCI distribution spec, "Pulling manifests": name and reference grammar.
const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const ROUTE = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/;
const TAGS_ROUTE = /^\/v2\/(.+)\/tags\/list$/;

interface RegistryTarget {
  /** Origin requests go to, e.g. `https://registry-1.docker.io`. */
  origin: string;
  /** Host used in messages and as the token cache key. */
  host: string;
  isDockerHub: boolean;
}

export class RegistryMirror {
  readonly tokens: TokenCache;
  private readonly mirrorHosts: Set<string>;
  private readonly dockerHubUpstream: string;
  private readonly hostRewrites: ReadonlyMap<string, string>;
  private readonly maxManifestBytes: number;
  private readonly verdicts: MirrorVerdicts | undefined;
  private readonly layerProgress: LayerProgressTracker | undefined;
  /** Docker Hub repository -> the tag dockerd last asked for: it fetches the index by digest, users know the tag. */
  private readonly lastTags = new Map<string, string>();

  constructor(
    private readonly upstream: Upstream,
    config: RegistryMirrorConfig = {},
  ) {
    this.mirrorHosts = new Set((config.mirrorHosts ?? [DEFAULT_MIRROR_HOST]).map(normaliseHost));
    this.dockerHubUpstream = config.dockerHubUpstream ?? 'registry-1.docker.io';
    this.hostRewrites = new Map(Object.entries(config.hostRewrites ?? {}).map(([k, v]) => [normaliseHost(k), v.replace(/\/+$/, '')]));
    this.maxManifestBytes = config.maxManifestBytes ?? 4 * 1024 * 1024;
    this.verdicts = config.verdicts;
    this.tokens = new TokenCache(upstream);
    this.layerProgress = config.onLayerProgress ? new LayerProgressTracker(config.onLayerProgress) : undefined;
  }

  /** Registry traffic is anything under /v2 or anything sent to the mirror's name. */
  isRegistryRequest(request: Http1Request): boolean {
    const { host, path } = requestLocation(request);
    return path === '/v2' || path.startsWith('/v2/') || this.mirrorHosts.has(host);
  }

  async handle(request: Http1Request): Promise<Response> {
    const { host, path } = requestLocation(request);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return registryError(405, 'UNSUPPORTED', `tabdock's registry shim is pull-only; ${request.method} is not supported`);
    }
    if (path === '/v2' || path === '/v2/') {
      // dockerd only needs the ping to answer; authentication happens upstream, done by the shim.
      return new Response(request.method === 'HEAD' ? null : '{}', {
        status: 200,
        headers: { 'content-type': 'application/json', 'content-length': '2', 'docker-distribution-api-version': 'registry/2.0' },
      });
    }
    const registry = this.registryFor(host);
    const route = ROUTE.exec(path);
    const tags = TAGS_ROUTE.exec(path);
    const rawName = route?.[1] ?? tags?.[1];
    if (rawName === undefined) {
      return registryError(404, 'UNSUPPORTED', `tabdock's registry shim does not serve ${path}; only pulls are supported`);
    }
    // Docker Hub keeps official images under library/ (dockerd adds it for mirrors too; be lenient anyway).
    const repository = registry.isDockerHub && !rawName.includes('/') ? `library/${rawName}` : rawName;
    if (!NAME.test(repository)) return registryError(400, 'NAME_INVALID', `invalid repository name ${JSON.stringify(rawName)}`);
    try {
      if (tags) return await this.fetchResource(request, registry, repository, 'other', `/v2/${repository}/tags/list`, 'tags');
      const kind = route?.[2] === 'manifests' ? 'manifest' : 'blob';
      const reference = route?.[3] ?? '';
      if (kind === 'blob' && !DIGEST.test(reference)) return registryError(400, 'DIGEST_INVALID', `invalid digest ${reference}`);
      if (kind === 'manifest' && !TAG.test(reference) && !DIGEST.test(reference)) {
        return registryError(400, 'TAG_INVALID', `invalid tag or digest ${JSON.stringify(reference)}`);
      }
      const upstreamPath = `/v2/${repository}/${kind}s/${reference}`;
      return await this.fetchResource(request, registry, repository, kind, upstreamPath, reference);
    } catch (error) {
      if (error instanceof UpstreamError) {
        if (registry.isDockerHub) this.verdicts?.record({ kind: 'unreachable', message: error.message });
        return upstreamUnavailable(error);
      }
      if (error instanceof TokenError) {
        return registryError(401, 'UNAUTHORIZED', `could not get a pull token for ${registry.host}/${repository}: ${error.message}`);
      }
      throw error;
    }
  }

  /** Whether the guest reaches this host (any port) at the shim itself: the mirror's names and the rewrites. */
  servesHost(host: string): boolean {
    const name = normaliseHost(host).replace(/:\d+$/, '');
    return this.mirrorHosts.has(name) || [...this.hostRewrites.keys()].some((key) => key.replace(/:\d+$/, '') === name);
  }

  /** The upstream origin configured for a guest-visible host, if any (also used by the plain HTTP forward). */
  rewriteFor(host: string): string | undefined {
    return this.hostRewrites.get(normaliseHost(host));
  }

  private registryFor(host: string): RegistryTarget {
    const rewrite = this.hostRewrites.get(host);
    if (rewrite !== undefined) {
      const origin = /^https?:\/\//.test(rewrite) ? rewrite : `https://${rewrite}`;
      return { origin, host: new URL(origin).host, isDockerHub: false };
    }
    if (this.mirrorHosts.has(host) || DOCKER_HUB_NAMES.has(host)) {
      const hub = this.dockerHubUpstream;
      const origin = /^https?:\/\//.test(hub) ? hub.replace(/\/+$/, '') : `https://${hub}`;
      return { origin, host: new URL(origin).host, isDockerHub: true };
    }
    return { origin: `https://${host}`, host, isDockerHub: false };
  }

  private async fetchResource(
    request: Http1Request,
    registry: RegistryTarget,
    repository: string,
    kind: ResourceKind,
    upstreamPath: string,
    reference: string,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (kind === 'manifest') headers.accept = headerValue(request, 'accept') ?? DEFAULT_MANIFEST_ACCEPT;
    const range = headerValue(request, 'range');
    if (kind === 'blob' && range !== undefined) headers.range = range;
    const method = request.method === 'HEAD' ? 'HEAD' : 'GET';
    const url = new URL(`${registry.origin}${upstreamPath}`);
    let response = await this.authorisedFetch(url, method, headers, registry, repository);
    // Some registries omit the digest or length on HEAD; a GET (buffered, small) gives both.
    if (kind === 'manifest' && method === 'HEAD' && response.ok && !hasManifestHeaders(response)) {
      await response.body?.cancel();
      response = await this.authorisedFetch(url, 'GET', headers, registry, repository);
    }
    if (kind === 'manifest' && registry.isDockerHub && !reference.startsWith('sha256:')) this.noteTag(repository, reference);
    if (!response.ok) {
      const verdict = kind === 'manifest' && registry.isDockerHub ? missingVerdict(response.status, repository, reference) : undefined;
      if (verdict !== undefined) this.verdicts?.record(verdict);
      return mapUpstreamFailure(response, { registryHost: registry.host, repository, reference, kind, nowMs: Date.now() });
    }
    switch (kind) {
      case 'manifest':
        return this.manifestResponse(response, request.method === 'HEAD', reference, registry, repository);
      case 'blob': {
        const blob = { registry: registry.host, repository, digest: reference, totalBytes: blobTotalBytes(response.headers), offsetBytes: blobOffsetBytes(response.headers) };
        const body = request.method === 'HEAD' || !this.layerProgress ? response.body : this.layerProgress.track(response.body, blob);
        return blobResponse(response, reference, body);
      }
      case 'other':
        return new Response(response.body, {
          status: response.status,
          headers: copyHeaders(response.headers, ['content-type', 'content-length', 'link']),
        });
      default: {
        const unreachable: never = kind;
        throw new Error(`unknown resource kind ${String(unreachable)}`);
      }
    }
  }

  private noteTag(repository: string, tag: string): void {
    // A handful of pulls at a time; the map only has to outlive one pull.
    if (this.lastTags.size >= 64 && !this.lastTags.has(repository)) this.lastTags.clear();
    this.lastTags.set(repository, tag);
  }

  /** Fetches with a cached token, and on a Bearer challenge gets one and retries once. */
  private async authorisedFetch(
    url: URL,
    method: 'GET' | 'HEAD',
    headers: Record<string, string>,
    registry: RegistryTarget,
    repository: string,
  ): Promise<Response> {
    const cached = this.tokens.cachedFor(registry.host, repository);
    const first = await this.upstream.fetch(url, {
      method,
      headers: cached === undefined ? headers : { ...headers, authorization: `Bearer ${cached}` },
    });
    if (first.status !== 401) return first;
    const challenge = parseBearerChallenge(first.headers.get('www-authenticate'));
    if (challenge === undefined) return first;
    await first.body?.cancel();
    if (cached !== undefined) this.tokens.forget(registry.host, repository);
    const token = await this.tokens.tokenFor(registry.host, repository, challenge);
    return this.upstream.fetch(url, { method, headers: { ...headers, authorization: `Bearer ${token}` } });
  }

  private async manifestResponse(
    upstream: Response,
    isHead: boolean,
    reference: string,
    registry: RegistryTarget,
    repository: string,
  ): Promise<Response> {
    const contentType = upstream.headers.get('content-type') ?? 'application/vnd.oci.image.manifest.v1+json';
    // A HEAD answers with the registry's own digest and length. Chromium gives a HEAD response an empty body
    // stream, not null as Node does: hashing that stream gave sha256 of nothing, which dockerd then asked for
    // and printed "Failed to pull manifest by the resolved digest" on every pull (issue #27). Without the
    // headers, fetchResource has already made this a GET, whose bytes are hashed below.
    if (isHead && hasManifestHeaders(upstream)) {
      await upstream.body?.cancel();
      return new Response(null, {
        status: 200,
        headers: {
          'content-type': contentType,
          'content-length': upstream.headers.get('content-length') ?? '0',
          'docker-content-digest': upstream.headers.get('docker-content-digest') ?? '',
          'docker-distribution-api-version': 'registry/2.0',
        },
      });
    }
    const bytes = await readBody(upstream, { maxBytes: this.maxManifestBytes });
    if (bytes === undefined) {
      return registryError(502, 'UNSUPPORTED', `the manifest of ${registry.host}/${repository}:${reference} is larger than ${this.maxManifestBytes} bytes`);
    }
    if (registry.isDockerHub && this.verdicts) {
      const platforms = indexPlatforms(contentType, bytes);
      const tag = reference.startsWith('sha256:') ? (this.lastTags.get(repository) ?? reference) : reference;
      const verdict = platforms === undefined ? undefined : platformVerdict(familiarReference(repository, tag), repository, platforms);
      if (verdict === undefined) this.verdicts.clear();
      else this.verdicts.record(verdict);
    }
    if (!isHead) this.layerProgress?.noteManifest(bytes, { registry: registry.host, repository });
    // dockerd checks the digest of what it receives; compute it from the bytes actually sent.
    const digest = `sha256:${hex(await crypto.subtle.digest('SHA-256', bytes))}`;
    if (reference.startsWith('sha256:') && reference !== digest) {
      return registryError(502, 'UNAVAILABLE', `${registry.host} sent a manifest whose digest ${digest} is not the requested ${reference}; try again`);
    }
    return new Response(isHead ? null : bytes, {
      status: 200,
      headers: {
        'content-type': contentType,
        'content-length': String(bytes.length),
        'docker-content-digest': digest,
        'docker-distribution-api-version': 'registry/2.0',
      },
    });
  }
}

function blobResponse(upstream: Response, digest: string, body: ReadableStream<Uint8Array> | null): Response {
  const headers = copyHeaders(upstream.headers, ['content-length', 'content-range', 'etag', 'last-modified']);
  headers.set('content-type', 'application/octet-stream');
  headers.set('docker-content-digest', digest);
  headers.set('accept-ranges', 'bytes');
  headers.set('docker-distribution-api-version', 'registry/2.0');
  // Streamed, never buffered: layers run to hundreds of MB.
  return new Response(body, { status: upstream.status, headers });
}

function hasManifestHeaders(response: Response): boolean {
  return response.headers.has('docker-content-digest') && response.headers.has('content-length') && response.headers.has('content-type');
}

function copyHeaders(from: Headers, names: readonly string[]): Headers {
  const to = new Headers();
  for (const name of names) {
    const value = from.get(name);
    if (value !== null) to.set(name, value);
  }
  return to;
}


function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

function normaliseHost(host: string): string {
  return host.toLowerCase().replace(/:80$/, '');
}

/** Host (lower-case, without :80) and path of a request in origin-form or absolute-form. */
export function requestLocation(request: Http1Request): { host: string; path: string } {
  if (/^https?:\/\//i.test(request.target)) {
    try {
      const url = new URL(request.target);
      return { host: normaliseHost(url.host), path: url.pathname };
    } catch {
      // An unparsable absolute target falls back to the Host header and the raw target below.
    }
  }
  const path = request.target.split('?')[0] ?? '/';
  return { host: normaliseHost(headerValue(request, 'host') ?? ''), path };
}
