// What the preview panel says while it waits for a port (port-wait.ts): the elapsed seconds, and once it gives up,
// what to check, naming the container and its port when the port bar knows them.
import type { PortWaitState } from './port-wait.ts';
import type { PublishedPort } from './published-ports.ts';

export interface WaitText {
  /** The line shown; undefined hides the box (nothing to say yet, or the page is loading). */
  text: string | undefined;
  /** Raw detail of the last probe, under the sentence. */
  detail?: string;
  /** Retry is offered (the wait gave up). */
  retry: boolean;
  /** The state is an error the reader must act on (role alert rather than status). */
  alert: boolean;
}

export function waitText(state: PortWaitState, published: PublishedPort | undefined): WaitText {
  switch (state.kind) {
    case 'probing':
    case 'answered':
      return { text: undefined, retry: false, alert: false };
    case 'waiting':
      return { text: `Waiting for port ${state.port} to answer… (${Math.floor(state.elapsedMs / 1000)} s)`, retry: false, alert: false };
    case 'gave-up': {
      const container = published?.container;
      const logs = container ? `\`docker logs ${container}\`` : '`docker logs <container>`';
      const inside = published ? `its port ${published.containerPort}` : 'the container port you published (the right side of `-p host:container`)';
      return {
        text:
          `Port ${state.port} did not answer within ${Math.round(state.elapsedMs / 1000)} s. ` +
          `Check that the server in the container started (${logs} shows its output) and that it listens on ${inside}, ` +
          'on all addresses (0.0.0.0), not only 127.0.0.1. Then press Retry.',
        detail: state.last.message,
        retry: true,
        alert: true,
      };
    }
    case 'failed':
      return { text: state.last.message, retry: true, alert: true };
    default: {
      const unknown: never = state;
      throw new Error(`unknown wait state ${JSON.stringify(unknown)}`);
    }
  }
}
