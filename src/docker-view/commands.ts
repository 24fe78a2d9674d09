// The docker command equivalent to each action of the Docker view, echoed to the terminal as a comment line so a
// learner sees what was run, plus the short texts the rows show (state, uptime, sizes).
import type { EngineAction } from '../../worker/shared/contract.ts';
import { shellQuote } from '../shell-quote.ts';
import { shortId } from './describe-event.ts';
import type { LayerView } from './view-types.ts';

/** `docker stop web`; names come from the daemon, quoted anyway so the echo is always a valid command. */
export function equivalentCommand(action: EngineAction, name: string): string {
  // Docker's own names and references need no quotes; anything else is quoted so the echo stays a valid command.
  const target = /^[A-Za-z0-9][A-Za-z0-9_.:/@-]*$/.test(name) ? name : shellQuote(name);
  switch (action.kind) {
    case 'container-stop':
      return `docker stop ${target}`;
    case 'container-start':
      return `docker start ${target}`;
    case 'container-remove':
      return action.force ? `docker rm -f ${target}` : `docker rm ${target}`;
    case 'image-remove':
      return `docker rmi ${target}`;
    default: {
      const unreachable: never = action;
      throw new Error(`unknown action ${JSON.stringify(unreachable)}`);
    }
  }
}

/** "3 s", "4 min", "2 h", "5 days": a container's uptime. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  const days = Math.floor(s / 86400);
  return `${days} day${days === 1 ? '' : 's'}`;
}

/**
 * A size as the docker CLI prints a pull's progress ("12.35MB", "512B"): go-units HumanSizeWithPrecision(size, 4),
 * decimal units and Go's %.4g, which drops trailing zeros. The Docker view's layer lines use it so their figures
 * read exactly like the terminal's (issue #27).
 */
export function dockerSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < units.length - 1) {
    size /= 1000;
    unit++;
  }
  const digits = size.toPrecision(4);
  return `${digits.includes('.') ? digits.replace(/\.?0+$/, '') : digits}${units[unit]}`;
}

/** A layer's line as the docker CLI prints it during a pull: `3f4ca61aafcd: Downloading  12.35MB/35.12MB`. */
export function layerLabel(layer: LayerView): string {
  const id = shortId(layer.digest);
  switch (layer.state) {
    case 'waiting':
      return `${id}: Waiting`;
    case 'downloading': {
      const total = layer.totalBytes > 0 ? `/${dockerSize(layer.totalBytes)}` : '';
      return `${id}: Downloading  ${dockerSize(layer.loadedBytes)}${total}`;
    }
    case 'done':
      return `${id}: Download complete`;
    case 'complete':
      return `${id}: Pull complete`;
    case 'exists':
      return `${id}: Already exists`;
    case 'failed':
      return `${id}: Download failed at ${dockerSize(layer.loadedBytes)}`;
    default: {
      const unreachable: never = layer.state;
      throw new Error(`unknown layer state ${String(unreachable)}`);
    }
  }
}

/** Decimal units, as `docker images` prints sizes. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

/** "running · up 4 min", "exited (137)", "paused", "created". */
export function describeState(container: { state: string; exitCode?: number; startedAtMs?: number; health?: string }, nowMs: number): string {
  const health = container.health ? ` · ${container.health}` : '';
  switch (container.state) {
    case 'running':
      return container.startedAtMs === undefined ? `running${health}` : `running · up ${formatDuration(nowMs - container.startedAtMs)}${health}`;
    case 'exited':
      return container.exitCode === undefined ? 'exited' : `exited (${container.exitCode})`;
    default:
      return container.state || 'unknown';
  }
}
