// dockerd's JSON (Engine API v1.41, which dockerd 20.10 and 26 both serve) checked with zod and turned into the
// contract's shapes. Fields the view does not use are ignored; a missing optional field gets a neutral value, a
// wrong shape throws, so the page never sees half-parsed data. Field names: docs.docker.com/reference/api/engine/v1.41.
import { z } from 'zod';
import type {
  EngineContainer,
  EngineEventMessage,
  EngineImage,
  EngineLayer,
  EngineNetwork,
  EngineVersion,
  EngineVolume,
} from '../../shared/engine-contract.ts';
import { TABDOCK_INTERNAL_LABEL } from '../../shared/engine-contract.ts';

const text = z.string().nullish().transform((value) => value ?? '');
const count = z.number().nullish().transform((value) => value ?? 0);

const containerSchema = z.object({
  Id: z.string(),
  Names: z.array(z.string()).nullish(),
  Image: text,
  Command: text,
  Created: count,
  State: text,
  Status: text,
  Ports: z
    .array(z.object({ IP: z.string().nullish(), PrivatePort: z.number(), PublicPort: z.number().nullish(), Type: text }))
    .nullish(),
  NetworkSettings: z
    .object({ Networks: z.record(z.string(), z.object({ NetworkID: text, IPAddress: text }).nullable()).nullish() })
    .nullish(),
  Mounts: z
    .array(z.object({ Type: text, Name: z.string().nullish(), Source: text, Destination: text, RW: z.boolean().nullish() }))
    .nullish(),
  Labels: z.record(z.string(), z.string()).nullish(),
});

const imageSchema = z.object({ Id: z.string(), RepoTags: z.array(z.string()).nullish(), Size: count, Created: count });
const layerSchema = z.object({ Id: text, CreatedBy: text, Size: count, Created: count });
const networkSchema = z.object({
  Id: z.string(),
  Name: text,
  Driver: text,
  IPAM: z.object({ Config: z.array(z.object({ Subnet: z.string().nullish() })).nullish() }).nullish(),
});
const volumeListSchema = z.object({
  Volumes: z.array(z.object({ Name: z.string(), Driver: text, Mountpoint: text })).nullish(),
});
const versionSchema = z.object({ Version: text, ApiVersion: text, Os: text, Arch: text });
const eventSchema = z.object({
  Type: z.string().min(1),
  Action: z.string(),
  Actor: z.object({ ID: text, Attributes: z.record(z.string(), z.string()).nullish() }).nullish(),
  time: count,
  timeNano: count,
});

/** `Exited (137) 5 seconds ago` -> 137. */
export function exitCodeFromStatus(status: string): number | undefined {
  const match = /^Exited \((-?\d+)\)/.exec(status);
  return match ? Number(match[1]) : undefined;
}

/** The part of a `<none>:<none>` free tag list that names something. */
function realTags(tags: readonly string[] | null | undefined): string[] {
  return (tags ?? []).filter((tag) => tag !== '<none>:<none>');
}

export function parseContainers(json: unknown): EngineContainer[] {
  const all = z.array(containerSchema).parse(json);
  return all.filter((c) => c.Labels?.[TABDOCK_INTERNAL_LABEL] === undefined).map((c) => {
    const container: EngineContainer = {
      id: c.Id,
      name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''),
      image: c.Image,
      command: c.Command,
      createdS: c.Created,
      state: c.State,
      status: c.Status,
      ports: (c.Ports ?? []).map((p) => ({
        privatePort: p.PrivatePort,
        protocol: p.Type || 'tcp',
        ...(p.PublicPort ? { publicPort: p.PublicPort } : {}),
        ...(p.IP ? { ip: p.IP } : {}),
      })),
      networks: Object.entries(c.NetworkSettings?.Networks ?? {}).map(([network, settings]) => ({
        network,
        networkId: settings?.NetworkID ?? '',
        ipAddress: settings?.IPAddress ?? '',
      })),
      mounts: (c.Mounts ?? []).map((m) => ({
        type: m.Type,
        source: m.Source,
        destination: m.Destination,
        readWrite: m.RW ?? true,
        ...(m.Name ? { name: m.Name } : {}),
      })),
    };
    const exitCode = exitCodeFromStatus(c.Status);
    if (exitCode !== undefined) container.exitCode = exitCode;
    return container;
  });
}

export function parseImages(json: unknown): EngineImage[] {
  return z.array(imageSchema).parse(json).map((i) => ({ id: i.Id, tags: realTags(i.RepoTags), sizeBytes: i.Size, createdS: i.Created }));
}

export function parseHistory(json: unknown): EngineLayer[] {
  return z.array(layerSchema).parse(json).map((l) => ({ id: l.Id, createdBy: l.CreatedBy, sizeBytes: l.Size, createdS: l.Created }));
}

export function parseNetworks(json: unknown): EngineNetwork[] {
  return z.array(networkSchema).parse(json).map((n) => {
    const subnet = n.IPAM?.Config?.find((config) => config.Subnet)?.Subnet;
    return subnet ? { id: n.Id, name: n.Name, driver: n.Driver, subnet } : { id: n.Id, name: n.Name, driver: n.Driver };
  });
}

export function parseVolumes(json: unknown): EngineVolume[] {
  return (volumeListSchema.parse(json).Volumes ?? []).map((v) => ({ name: v.Name, driver: v.Driver, mountpoint: v.Mountpoint }));
}

export function parseVersion(json: unknown): EngineVersion {
  const v = versionSchema.parse(json);
  return { version: v.Version, apiVersion: v.ApiVersion, os: v.Os, arch: v.Arch };
}

/**
 * One /events object. 20.10 and 26 both send Type/Action/Actor/time/timeNano (the deprecated status/id/from of
 * container events are ignored); undefined when the object is not an event, so the caller shows it raw.
 */
export function parseEvent(json: unknown): EngineEventMessage | undefined {
  const parsed = eventSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const e = parsed.data;
  return {
    type: e.Type,
    action: e.Action,
    actorId: e.Actor?.ID ?? '',
    attributes: { ...(e.Actor?.Attributes ?? {}) },
    timeNano: e.timeNano || e.time * 1e9,
  };
}

/** dockerd's error body is `{"message": "..."}`; anything else is shown as text. */
export function engineErrorMessage(body: string): string {
  try {
    const parsed = z.object({ message: z.string() }).safeParse(JSON.parse(body));
    if (parsed.success) return parsed.data.message;
  } catch {
    // Not JSON: dockerd sends plain text for some errors (and a proxy in between might).
  }
  return body.trim().slice(0, 500);
}
