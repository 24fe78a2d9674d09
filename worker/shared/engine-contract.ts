// The Docker Engine API as the page sees it (through worker/shared/contract.ts's VmApi): typed read queries, the few
// actions the Docker view offers, and the updates of a watch (the daemon's /events plus the registry shim's layer
// progress). Only types live here; the worker normalises dockerd's JSON into them (worker/vm/engine/engine-model.ts).

/** A container as /containers/json lists it, normalised. */
/**
 * The label of containers tabdock starts for itself, never the user's: the background warm-up after a restore
 * (vm-images/config/tabdock-warm-up). They are left out of the container lists and the events the page shows.
 */
export const TABDOCK_INTERNAL_LABEL = 'tabdock.warm-up';

export interface EngineContainer {
  id: string;
  /** Without the leading '/'. */
  name: string;
  /** As the user named it (`nginx`, `busybox:latest`), or an image id when it was created from one. */
  image: string;
  command: string;
  createdS: number;
  /** Docker's state word: created, running, paused, restarting, removing, exited, dead. */
  state: string;
  /** Docker's own summary, e.g. "Up 3 minutes" or "Exited (0) 5 seconds ago". */
  status: string;
  /** For exited containers, from the status text or the die event. */
  exitCode?: number;
  ports: EnginePort[];
  networks: EngineAttachment[];
  mounts: EngineMount[];
}

export interface EnginePort {
  privatePort: number;
  /** Set when published on the VM (`-p 8080:80` gives 8080). */
  publicPort?: number;
  protocol: string;
  ip?: string;
}

export interface EngineAttachment {
  network: string;
  networkId: string;
  /** Empty while the container is not running. */
  ipAddress: string;
}

export interface EngineMount {
  type: string;
  /** Volume name for `volume` mounts. */
  name?: string;
  source: string;
  destination: string;
  readWrite: boolean;
}

export interface EngineImage {
  id: string;
  /** `name:tag`; empty for dangling images. */
  tags: string[];
  sizeBytes: number;
  createdS: number;
}

/** One layer of an image (/images/{id}/history), newest first as Docker lists them. */
export interface EngineLayer {
  id: string;
  createdBy: string;
  sizeBytes: number;
  createdS: number;
}

export interface EngineNetwork {
  id: string;
  name: string;
  driver: string;
  subnet?: string;
}

export interface EngineVolume {
  name: string;
  driver: string;
  mountpoint: string;
}

export interface EngineVersion {
  version: string;
  apiVersion: string;
  os: string;
  arch: string;
}

/** One /events message, normalised; `action` keeps Docker's suffixes (`exec_start: sh -c ls`, `health_status: healthy`). */
export interface EngineEventMessage {
  /** container, image, network, volume, daemon, plugin, builder, ... (dockerd may add types: keep it open). */
  type: string;
  action: string;
  actorId: string;
  attributes: Record<string, string>;
  timeNano: number;
}

/** A layer blob the registry shim is serving to dockerd: the pull's per-layer progress, seen from the worker. */
export interface LayerProgress {
  /** The registry host the blob comes from, e.g. registry-1.docker.io. */
  registry: string;
  repository: string;
  digest: string;
  loadedBytes: number;
  /** 0 when the registry did not say. */
  totalBytes: number;
  /** `waiting`: listed by the image's manifest, not requested yet (the CLI's "Waiting"). */
  state: 'waiting' | 'downloading' | 'done' | 'failed';
}

export type EngineQuery =
  | { kind: 'version' }
  | { kind: 'containers' }
  | { kind: 'images' }
  | { kind: 'networks' }
  | { kind: 'volumes' }
  | { kind: 'image-history'; id: string };

export interface EngineQueryResults {
  version: EngineVersion;
  containers: EngineContainer[];
  images: EngineImage[];
  networks: EngineNetwork[];
  volumes: EngineVolume[];
  'image-history': EngineLayer[];
}

export type EngineQueryKind = EngineQuery['kind'];

/** What the Docker view can do; each is one Engine API call (see engine/engine-actions.ts for the mapping). */
export type EngineAction =
  | { kind: 'container-stop'; id: string }
  | { kind: 'container-start'; id: string }
  | { kind: 'container-remove'; id: string; force: boolean }
  | { kind: 'image-remove'; id: string };

export type EngineConnectionState = 'connecting' | 'connected' | 'waiting';

/** What a watch (VmApi.watchEngine) sends, as VmEvent `engine`. */
export type EngineUpdate =
  /** `waiting` comes with a sentence: the daemon is not answering (restarting, VM busy); the watch retries. */
  | { kind: 'connection'; state: EngineConnectionState; message?: string }
  | { kind: 'events'; events: EngineEventMessage[] }
  /** A line of the event stream that is not an event object: shown as it came. */
  | { kind: 'raw'; text: string }
  | { kind: 'layers'; layers: LayerProgress[] };

export type EngineErrorCode =
  /** Nothing answers on the API port: dockerd is starting or restarting, or the VM is not running. */
  | 'daemon-unavailable'
  /** No such container or image (HTTP 404). */
  | 'not-found'
  /** The daemon refused in the current state, e.g. removing a running container or an image in use (HTTP 409). */
  | 'conflict'
  /** Any other answer the daemon gave (HTTP 4xx/5xx), with its message. */
  | 'engine-error'
  /** The query or action is malformed (bad id). */
  | 'bad-request';

/** Streamed logs of one container, on the MessagePort given to VmApi.followEngineLogs. */
export type EngineLogMessage =
  | { type: 'data'; stream: 'stdout' | 'stderr'; text: string }
  | { type: 'end' }
  | { type: 'error'; code: EngineErrorCode; message: string };

/** What the reader may send back on that port. */
export type EngineLogControl = { type: 'cancel' };

/** The guest port dockerd's Engine API listens on for the worker (vm-images/config/tabdock-init). */
export const ENGINE_API_PORT = 2375;
