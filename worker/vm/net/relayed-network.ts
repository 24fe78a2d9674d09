// The browser worker's network for one emulator: the registry shim with the page's CORS proxy and Docker Hub
// upstream, and every other guest TCP connection through the page's Wisp relay, its troubles told to the page
// as notices (relay-notices.ts).
import type { V86 } from 'v86';
import type { LayerProgress, VmNotice } from '../../shared/contract.ts';
import { attachNetwork, type V86NetworkLike } from './index.ts';
import { RelayNotices } from './relay-notices.ts';
import { WispDialer } from './wisp-dialer.ts';

export interface NetworkSink {
  notice(notice: VmNotice): void;
  layerProgress(progress: LayerProgress): void;
}

export function attachRelayedNetwork(emulator: V86, network: { proxyUrl: string; relayUrl: string; dockerHubUpstream?: string | undefined }, sink: NetworkSink): void {
  const relayUrl = network.relayUrl;
  const notices = new RelayNotices(relayUrl, (notice) => sink.notice(notice));
  let egress;
  if (relayUrl !== 'off') {
    try {
      const dialer = new WispDialer(relayUrl, { onDown: (message) => notices.unreachable(message) });
      // Opened now, so the first connection a container makes does not wait for the handshake.
      void dialer.open().catch(() => undefined);
      egress = { dialer, onNotice: (notice: Parameters<RelayNotices['fromEgress']>[0]) => notices.fromEgress(notice) };
    } catch (error) {
      // A relay URL that cannot be used must not stop the VM: it runs without egress and says why.
      notices.unreachable(error instanceof Error ? error.message : String(error));
    }
  }
  attachNetwork(emulator as unknown as V86NetworkLike, {
    proxyUrl: network.proxyUrl,
    onLayerProgress: (progress) => sink.layerProgress(progress),
    ...(network.dockerHubUpstream === undefined ? {} : { dockerHubUpstream: network.dockerHubUpstream }),
    ...(egress ? { egress } : {}),
  });
}
