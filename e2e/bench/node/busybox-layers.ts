// The benches' test images: the guest's preloaded busybox plus one new layer of given files, pushed to the
// offline test registry, so a pull transfers only that layer (disk, pull-transfer).
import { join } from 'node:path';
import { extendOciLayout, type ExtendedImage } from '../../../worker/testing/oci-layout.ts';
import { pushLayout } from '../../../worker/testing/registry.ts';
import { DEFAULT_ASSET_DIR } from '../../../worker/node/node-platform.ts';

export interface BusyboxLayerImage {
  /** The folder the OCI layout is written into. */
  layoutDir: string;
  tag: string;
  /** host:port of the test registry. */
  registryHost: string;
  repository: string;
  /** File name in the new layer to its contents. */
  files: Record<string, Buffer>;
}

export async function pushBusyboxWithLayer(image: BusyboxLayerImage): Promise<ExtendedImage> {
  const busybox = join(process.env.TABDOCK_ASSETS ?? DEFAULT_ASSET_DIR, 'test-images', 'busybox');
  const extended = await extendOciLayout(busybox, image.layoutDir, image.tag, image.files);
  await pushLayout(extended.layoutDir, image.tag, image.registryHost, image.repository);
  return extended;
}
