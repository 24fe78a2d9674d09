// The browser worker's network for one emulator: the registry shim with the page's CORS proxy and Docker Hub
// upstream, and every other guest TCP connection through the page's Wisp relay, its troubles told to the page
// as notices (relay-notices.ts). The relay's WebSocket belongs to the attachment: detach() closes it.
import type { V86 } from 'v86';
import type { NetworkOptions } from '../../shared/contract.ts';
import { attachNetwork, type NetworkAttachment, type NetworkSink, type V86NetworkLike } from './index.ts';
import { RelayNotices } from './relay-notices.ts';
import { WispDialer } from './wisp-dialer.ts';

export function attachRelayedNetwork(emulator: V86, network: NetworkOptions, sink: NetworkSink): NetworkAttachment {
  const relayUrl = network.relayUrl;
  const notices = new RelayNotices(relayUrl, (notice) => sink.notice(notice));
  let dialer: WispDialer | undefined;
  if (relayUrl !== 'off') {
    try {
      dialer = new WispDialer(relayUrl, { onDown: (message) => notices.unreachable(message) });
      // Opened now, so the first connection a container makes does not wait for the handshake.
      void dialer.open().catch(() => undefined);
    } catch (error) {
      // A relay URL that cannot be used must not stop the VM: it runs without egress and says why.
      notices.unreachable(error instanceof Error ? error.message : String(error));
    }
  }
  const shim = attachNetwork(emulator as unknown as V86NetworkLike, {
    proxyUrl: network.proxyUrl,
    onLayerProgress: (progress) => sink.layerProgress(progress),
    onPlatformAdvice: (advice) => sink.notice({ code: 'image-platform', message: advice }),
    ...(network.dockerHubUpstream === undefined ? {} : { dockerHubUpstream: network.dockerHubUpstream }),
    ...(dialer ? { egress: { dialer, onNotice: (notice) => notices.fromEgress(notice) } } : {}),
  });
  return {
    detach() {
      shim.detach();
      dialer?.close();
    },
  };
}
