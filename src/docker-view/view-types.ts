// The Docker view's state as data: what the reducer (view-state.ts) keeps and the views (panel.ts, rows.ts,
// architecture.ts) draw. Apart from the reducer so the event effects it uses can share the types without a loop.
import type { EngineConnectionState, EngineContainer, EngineImage, EngineNetwork, EngineVolume, LayerProgress } from '../../worker/shared/contract.ts';
import type { ArchPart } from './describe-event.ts';

export type ListKind = 'containers' | 'images' | 'networks' | 'volumes';
export const LIST_KINDS: readonly ListKind[] = ['containers', 'images', 'networks', 'volumes'];

export interface ContainerView extends EngineContainer {
  /** Epoch ms of the last start, from the start event or estimated from "Up 3 minutes". */
  startedAtMs?: number;
  health?: string;
  /** Sequence number of the last event that changed it. */
  seq: number;
}

export interface ActivityEntry {
  seq: number;
  atMs: number;
  text: string;
  /** 'raw' when the event was not understood and is shown as it came. */
  kind: 'event' | 'raw' | 'pull' | 'daemon';
}

/**
 * A layer of the current pull: the shim's states, then what the image's `pull` event settles, in the docker CLI's
 * words: a downloaded layer is then "Pull complete", one that was never requested "Already exists".
 */
export type LayerView = Omit<LayerProgress, 'state'> & { state: LayerProgress['state'] | 'complete' | 'exists' };

export interface LitPart {
  seq: number;
  part: ArchPart;
}

export interface DockerViewState {
  connection: { state: EngineConnectionState | 'off'; message?: string };
  containers: ReadonlyMap<string, ContainerView>;
  images: ReadonlyMap<string, EngineImage>;
  networks: ReadonlyMap<string, EngineNetwork>;
  volumes: ReadonlyMap<string, EngineVolume>;
  /** Layers of the pulls in progress (or just finished), by digest. */
  layers: ReadonlyMap<string, LayerView>;
  /** When the shim last reported a layer: a pull's next layer can start just after its others finished. */
  lastLayerAtMs: number;
  /** Newest last, at most MAX_ACTIVITY. */
  activity: readonly ActivityEntry[];
  /** The architecture parts to light, in order; newest last, at most MAX_LIT. */
  lit: readonly LitPart[];
  /** Lists an event made out of date; the controller fetches them and reduces a 'snapshot'. */
  stale: ReadonlySet<ListKind>;
  /** Containers removed by events, so a snapshot asked for before the removal does not bring them back. */
  removed: ReadonlyMap<string, number>;
  /** tabdock's own containers (TABDOCK_INTERNAL_LABEL) seen in events: neither they nor their network events show. */
  hidden: ReadonlySet<string>;
  seq: number;
  lastEventAtMs: number;
}
