// Turns the relay's troubles into page notices without flooding the page: that the relay is unreachable is said
// once per VM (with its URL and what to do), each refused target once, and after a few refusals only a count.
import type { VmNotice } from '../../shared/contract.ts';
import type { EgressNotice } from './egress.ts';

const MAX_REFUSAL_NOTICES = 5;

export class RelayNotices {
  private unreachableShown = false;
  private readonly refusedTargets = new Set<string>();

  constructor(
    private readonly relayUrl: string,
    private readonly notify: (notice: VmNotice) => void,
  ) {}

  unreachable(detail: string): void {
    if (this.unreachableShown) return;
    this.unreachableShown = true;
    this.notify({
      code: 'relay-unreachable',
      message:
        `HTTPS and other TCP from containers is off: the relay at ${this.relayUrl} cannot be reached. docker pull still ` +
        'works. Start it with npm start, or set the relay URL in Network…, then restart the VM.',
      detail,
    });
  }

  fromEgress(notice: EgressNotice): void {
    if (notice.code === 'relay-unreachable') {
      this.unreachable(notice.message);
      return;
    }
    if (this.refusedTargets.has(notice.target)) return;
    this.refusedTargets.add(notice.target);
    if (this.refusedTargets.size > MAX_REFUSAL_NOTICES) return;
    const more = this.refusedTargets.size === MAX_REFUSAL_NOTICES ? ' (further refusals are not shown)' : '';
    const reason = notice.message.startsWith(`${notice.target}: `) ? notice.message.slice(notice.target.length + 2) : notice.message;
    this.notify({
      code: 'relay-refused',
      message: `A container's connection to ${notice.target} was refused by the relay at ${this.relayUrl}: ${reason}${more}`,
    });
  }
}
