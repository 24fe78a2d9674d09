// Why a relayed TCP stream did not open, or ended early: one code union and one error class for both ends of the
// relay, the policy that refuses (worker/proxy) and the VM worker's egress that reports it to the guest and page
// (worker/vm/net). Each code reaches the user as the error's sentence.

export type RefusalCode =
  | 'bad-target'
  | 'port-not-allowed'
  | 'host-port-not-allowed'
  | 'address-not-allowed'
  | 'not-resolved'
  | 'too-many-streams'
  | 'relay-busy'
  | 'byte-limit'
  | 'buffer-full'
  | 'connect-refused'
  | 'connect-timeout'
  | 'idle-timeout'
  | 'connect-failed'
  | 'relay-unreachable';

export class RelayRefusal extends Error {
  readonly code: RefusalCode;
  constructor(code: RefusalCode, message: string) {
    super(message);
    this.name = 'RelayRefusal';
    this.code = code;
  }
}
