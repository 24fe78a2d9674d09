// What one Docker event means to a learner: a sentence for the activity line and the parts of the architecture
// picture it involves, in the order the work flows. Covers every container, image, network and volume action
// dockerd 20.10 and 26 emit (moby api/types/events); anything else is shown as it came.
import type { EngineEventMessage } from '../../worker/shared/contract.ts';

/** The boxes of the architecture picture (architecture.ts). */
export type ArchPart = 'client' | 'api' | 'daemon' | 'registry' | 'images' | 'containers' | 'networks' | 'volumes';

export interface EventMeaning {
  text: string;
  parts: ArchPart[];
  /** Known type and action; false means the text is the raw event. */
  known: boolean;
}

/** `exec_start: sh -c ls` -> ['exec_start', 'sh -c ls']; `health_status: healthy` -> ['health_status', 'healthy']. */
export function splitAction(action: string): [base: string, detail: string] {
  const colon = action.indexOf(':');
  return colon === -1 ? [action, ''] : [action.slice(0, colon), action.slice(colon + 1).trim()];
}

export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** The event as it came, for types and actions this view does not know. */
export function rawEventText(event: EngineEventMessage): string {
  const attributes = Object.entries(event.attributes)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
  return `${event.type} ${event.action} ${event.actorId}${attributes ? ` (${attributes})` : ''}`;
}

export function describeEvent(event: EngineEventMessage, containerName: (id: string) => string | undefined): EventMeaning {
  const a = event.attributes;
  const [action, detail] = splitAction(event.action);
  const raw = (): EventMeaning => ({ text: rawEventText(event), parts: ['daemon'], known: false });
  const known = (text: string, parts: ArchPart[]): EventMeaning => ({ text, parts, known: true });
  switch (event.type) {
    case 'container': {
      const name = a['name'] ?? containerName(event.actorId) ?? shortId(event.actorId);
      switch (action) {
        case 'create':
          return known(`Created container ${name} from ${a['image'] ?? 'an image'}`, ['images', 'containers']);
        case 'start':
          return known(`Started ${name}`, ['containers']);
        case 'restart':
          return known(`Restarted ${name}`, ['containers']);
        case 'die':
          return known(`${name} exited with code ${a['exitCode'] ?? '?'}`, ['containers']);
        case 'stop':
          return known(`Stopped ${name}`, ['containers']);
        case 'kill':
          return known(a['signal'] ? `Sent signal ${a['signal']} to ${name}` : `Sent a signal to ${name}`, ['containers']);
        case 'oom':
          return known(`${name} ran out of memory`, ['containers']);
        case 'pause':
          return known(`Paused ${name}`, ['containers']);
        case 'unpause':
          return known(`Unpaused ${name}`, ['containers']);
        case 'destroy':
        case 'remove':
          return known(`Removed container ${name}`, ['containers']);
        case 'rename':
          return known(`Renamed ${a['oldName']?.replace(/^\//, '') ?? 'a container'} to ${name}`, ['containers']);
        case 'attach':
          return known(`Attached to ${name}`, ['containers']);
        case 'detach':
          return known(`Detached from ${name}`, ['containers']);
        case 'resize':
          return known(`Resized the terminal of ${name}`, ['containers']);
        case 'update':
          return known(`Updated the settings of ${name}`, ['containers']);
        case 'top':
          return known(`Listed the processes of ${name}`, ['containers']);
        case 'copy':
        case 'archive-path':
        case 'extract-to-dir':
          return known(`Copied files ${action === 'extract-to-dir' ? 'into' : 'from'} ${name}`, ['containers']);
        case 'export':
          return known(`Exported the filesystem of ${name}`, ['containers']);
        case 'checkpoint':
          return known(`Checkpointed ${name}`, ['containers']);
        case 'commit':
          // The classic builder (20.10) commits each RUN step's container: a build step.
          return known(`Build step: committed ${name} as a new image layer`, ['containers', 'images']);
        case 'exec_create':
          return known(`Prepared a command in ${name}: ${detail}`, ['containers']);
        case 'exec_start':
          return known(`Running in ${name}: ${detail}`, ['containers']);
        case 'exec_die':
          return known(`A command in ${name} exited with code ${a['exitCode'] ?? '?'}`, ['containers']);
        case 'exec_detach':
          return known(`Detached from a command in ${name}`, ['containers']);
        case 'health_status':
          return known(`${name} is ${detail || 'checked'}`, ['containers']);
        case 'prune':
          return known(`Pruned stopped containers${reclaimed(a)}`, ['containers']);
        default:
          return raw();
      }
    }
    case 'image': {
      const name = a['name'] ?? event.actorId;
      switch (action) {
        case 'pull':
          return known(`Pulled ${event.actorId}`, ['registry', 'images']);
        case 'push':
          return known(`Pushed ${event.actorId}`, ['images', 'registry']);
        case 'tag':
          return known(`Tagged ${shortId(event.actorId)} as ${name}`, ['images']);
        case 'untag':
          return known(`Untagged ${shortId(event.actorId)}`, ['images']);
        case 'delete':
          return known(`Deleted image ${shortId(event.actorId)}`, ['images']);
        case 'load':
          return known(`Loaded image ${shortId(event.actorId)}`, ['images']);
        case 'import':
          return known(`Imported image ${shortId(event.actorId)}`, ['images']);
        case 'save':
          return known(`Saved image ${shortId(event.actorId)}`, ['images']);
        case 'create':
          return known(`Created image ${shortId(event.actorId)}`, ['images']);
        case 'prune':
          return known(`Pruned unused images${reclaimed(a)}`, ['images']);
        default:
          return raw();
      }
    }
    case 'network': {
      const network = a['name'] ?? shortId(event.actorId);
      const container = a['container'] === undefined ? 'a container' : (containerName(a['container']) ?? shortId(a['container']));
      switch (action) {
        case 'create':
          return known(`Created network ${network}${a['type'] ? ` (${a['type']})` : ''}`, ['networks']);
        case 'connect':
          return known(`Connected ${container} to network ${network}`, ['containers', 'networks']);
        case 'disconnect':
          return known(`Disconnected ${container} from network ${network}`, ['networks']);
        case 'destroy':
        case 'remove':
          return known(`Removed network ${network}`, ['networks']);
        case 'prune':
          return known(`Pruned unused networks`, ['networks']);
        default:
          return raw();
      }
    }
    case 'volume': {
      const volume = shortVolume(event.actorId);
      const container = a['container'] === undefined ? 'a container' : (containerName(a['container']) ?? shortId(a['container']));
      switch (action) {
        case 'create':
          return known(`Created volume ${volume}`, ['volumes']);
        case 'mount':
          return known(`Mounted volume ${volume} into ${container}${a['destination'] ? ` at ${a['destination']}` : ''}`, ['volumes', 'containers']);
        case 'unmount':
          return known(`Unmounted volume ${volume} from ${container}`, ['volumes']);
        case 'destroy':
        case 'remove':
          return known(`Removed volume ${volume}`, ['volumes']);
        case 'prune':
          return known(`Pruned unused volumes${reclaimed(a)}`, ['volumes']);
        default:
          return raw();
      }
    }
    case 'daemon':
      return action === 'reload' ? known('The daemon reloaded its configuration', ['daemon']) : raw();
    case 'builder':
      return action === 'prune' ? known(`Pruned the build cache${reclaimed(a)}`, ['images']) : raw();
    default:
      return raw();
  }
}

function reclaimed(attributes: Record<string, string>): string {
  const bytes = Number(attributes['reclaimed']);
  return Number.isFinite(bytes) && bytes > 0 ? ` (${(bytes / 1e6).toFixed(1)} MB freed)` : '';
}

/** Anonymous volumes are named by 64 hex digits. */
function shortVolume(name: string): string {
  return /^[0-9a-f]{64}$/.test(name) ? name.slice(0, 12) : name;
}
