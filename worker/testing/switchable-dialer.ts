// An EgressDialer that forwards to another, replaceable while the VM runs: lets one boot exercise the
// harness's relay, a Wisp relay and a relay that is down (tests and the bench; the dialer is fixed at boot).
import type { EgressDialer, EgressState, EgressStream } from '../shared/egress-dialer.ts';

export class SwitchableDialer implements EgressDialer {
  constructor(public current: EgressDialer) {}
  get description(): string {
    return this.current.description;
  }
  state(): EgressState {
    return this.current.state();
  }
  dial(host: string, port: number): Promise<EgressStream> {
    return this.current.dial(host, port);
  }
  close(): void {
    this.current.close();
  }
}
