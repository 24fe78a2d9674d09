// A Compose file from a stack link, checked before the reader is asked: YAML (yaml), the shape of the parts
// tabdock shows and relies on (zod), no hidden characters, and a summary of what it will run: each service, the
// image it pulls, the ports it publishes. Never throws.
import { LineCounter, parseDocument } from 'yaml';
import * as z from 'zod/mini';
import { describeCharacter, findHiddenInCommand, whyRefused } from '../labs/hidden-characters.ts';
import { stackError, type StackResult } from './stack-errors.ts';

export interface StackService {
  name: string;
  image: string;
  /** The `ports:` entries as written (short syntax, or the long syntax as `published:target/protocol`). */
  ports: string[];
  /** Host ports it publishes on the VM (what the port bar will offer); a range or a random port adds none. */
  publishedPorts: number[];
}

export interface StackFile {
  /** The text as fetched, line endings made LF; what is shown and what is written into the guest. */
  text: string;
  services: StackService[];
  /** The file has swarm `deploy:` keys (a `docker stack deploy` file); compose up applies part of them. */
  hasDeployKeys: boolean;
  /** The Compose project name: the file's `name:`, else one made from the link. */
  project: string;
}

/** Compose's own rule for project names (compose-spec "name" top-level element). */
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** An image reference as the reader should see it: no spaces, no shell or YAML trickery. */
const IMAGE_REF = /^[a-zA-Z0-9][a-zA-Z0-9._/:@-]*$/;
const MAX_SERVICES = 50;

const portNumber = z.int().check(z.gte(0), z.lte(65535));
const longPort = z.looseObject({
  target: z.union([portNumber, z.string()]),
  published: z.optional(z.union([portNumber, z.string()])),
  host_ip: z.optional(z.string()),
  protocol: z.optional(z.string()),
});
const service = z.looseObject({
  image: z.optional(z.string().check(z.maxLength(512))),
  build: z.optional(z.unknown()),
  ports: z.optional(z.array(z.union([z.string().check(z.maxLength(100)), portNumber, longPort])).check(z.maxLength(100))),
  deploy: z.optional(z.unknown()),
});
const composeFile = z.looseObject({
  name: z.optional(z.string()),
  services: z.record(z.string(), service),
});

export function parseStackFile(source: string, link: string): StackResult<StackFile> {
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const hidden = findHiddenInCommand(text);
  if (hidden) {
    const line = text.slice(0, hidden.index).split('\n').length;
    return stackError(
      'hidden-characters',
      `This Compose file holds ${describeCharacter(hidden.codePoint)} on line ${line}; ${whyRefused(hidden.kind)}. It was not shown or run. Ask its author to remove the character.`,
      `line ${line}`,
    );
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const at = lineCounter.linePos(yamlError.pos[0]);
    return stackError('not-yaml', `The file at ${link} is not valid YAML (line ${at.line}, column ${at.col}), so it is not a Compose file. Check that the link names the raw docker-compose.yml.`, yamlError.message);
  }
  let data: unknown;
  try {
    // maxAliasCount bounds alias expansion (a "billion laughs" file stops here).
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return stackError('not-yaml', `The file at ${link} could not be read as YAML. Check that the link names the raw docker-compose.yml.`, String(error));
  }
  const parsed = composeFile.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at \`${issue.path.join('.')}\`` : '';
    return stackError('not-compose', `The file at ${link} is not a Compose file: it needs a \`services:\` map of services${where === '' ? '' : `, and has a problem${where}`}. Check that the link names the docker-compose.yml.`, issue?.message);
  }
  const entries = Object.entries(parsed.data.services);
  if (entries.length === 0) return stackError('not-compose', `The Compose file at ${link} defines no services, so there is nothing to run.`);
  if (entries.length > MAX_SERVICES) return stackError('unsupported', `The Compose file at ${link} defines ${entries.length} services; a stack link may start at most ${MAX_SERVICES}.`);
  const services: StackService[] = [];
  for (const [name, spec] of entries) {
    if (!SERVICE_NAME.test(name)) return stackError('not-compose', `The service name "${name.slice(0, 60)}" is not a valid Compose service name (letters, digits, '.', '_' and '-').`);
    if (spec.build !== undefined) {
      return stackError('unsupported', `Service "${name}" builds its image from source (\`build:\`), which a link cannot bring along. tabdock starts stacks of published images; ask the author for a file where every service has an \`image:\`.`);
    }
    if (spec.image?.includes('$')) {
      return stackError('unsupported', `Service "${name}" names its image with a variable ("${spec.image.slice(0, 80)}"); a link brings no .env file to fill it in. Ask the author for a file with the image written out.`);
    }
    if (spec.image === undefined || !IMAGE_REF.test(spec.image)) {
      return stackError('not-compose', `Service "${name}" has no usable \`image:\`${spec.image === undefined ? '' : ` ("${spec.image.slice(0, 80)}")`}; every service of a stack link must name the image it runs.`);
    }
    const ports = (spec.ports ?? []).map(portText);
    services.push({ name, image: spec.image, ports, publishedPorts: ports.map(publishedPort).filter((port) => port !== undefined) });
  }
  const project = parsed.data.name !== undefined && PROJECT_NAME.test(parsed.data.name) ? parsed.data.name : projectFromLink(link);
  return { ok: true, value: { text, services, hasDeployKeys: entries.some(([, spec]) => spec.deploy !== undefined), project } };
}

function portText(port: string | number | z.infer<typeof longPort>): string {
  if (typeof port === 'string') return port;
  if (typeof port === 'number') return String(port);
  const published = port.published === undefined ? '' : `${port.host_ip ? `${port.host_ip}:` : ''}${port.published}:`;
  return `${published}${port.target}${port.protocol && port.protocol !== 'tcp' ? `/${port.protocol}` : ''}`;
}

/** `8080:80`, `127.0.0.1:8080:80`, `8080:80/tcp` publish 8080; `80`, `8080-8081:80-81` and UDP publish none the bar offers. */
export function publishedPort(spec: string): number | undefined {
  const [mapping, protocol = 'tcp'] = spec.split('/');
  if (protocol !== 'tcp' || mapping === undefined) return undefined;
  const parts = mapping.split(':');
  if (parts.length < 2) return undefined;
  const published = parts[parts.length - 2] ?? '';
  if (!/^\d{1,5}$/.test(published)) return undefined;
  const port = Number(published);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * "https://x/y/awesome-app/docker-compose.yml" → "awesome-app" (compose's default is the directory's name too); a
 * file at the root of a GitHub repository (raw.githubusercontent.com/OWNER/REPO/REF/compose.yml) → REPO.
 */
export function projectFromLink(link: string): string {
  let url: URL | undefined;
  try {
    url = new URL(link);
  } catch {
    url = undefined;
  }
  const parts = url ? url.pathname.split('/').filter((part) => part !== '').map(decodeSafely) : [];
  const file = parts.at(-1) ?? '';
  const directories = parts.slice(0, -1);
  const github = url?.hostname === 'raw.githubusercontent.com' && directories.length >= 3;
  const parent = github ? (directories.slice(3).at(-1) ?? directories[1]) : directories.at(-1);
  const candidate = (/^(docker-)?compose(\.[a-z0-9]+)*\.ya?ml$/i.test(file) ? (parent ?? '') : file.replace(/\.ya?ml$/i, ''))
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 40);
  return PROJECT_NAME.test(candidate) ? candidate : 'stack';
}

function decodeSafely(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
