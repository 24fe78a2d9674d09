// Compose files from stack links: what the reader is shown (services, images, ports), and every file that is
// refused before the question (not YAML, not compose, builds, hidden characters).
import { describe, expect, it } from 'vitest';
import { below, pick, prng } from '../../worker/testing/prng.ts';
import { parseStackFile, projectFromLink, publishedPort } from './parse-stack.ts';

const LINK = 'https://raw.githubusercontent.com/acme/awesome-app/main/docker-compose.yml';

describe('parseStackFile', () => {
  it('lists each service with its image and ports, keeps the text, and names the project', () => {
    const result = parseStackFile(
      'services:\r\n  web:\r\n    image: tabdock/httpd\r\n    ports: ["8082:80", "127.0.0.1:9000:9000/tcp", "53:53/udp", 3000]\r\n  db:\r\n    image: postgres:16-alpine\r\n    ports:\r\n      - target: 5432\r\n        published: "5433"\r\n',
      LINK,
    );
    expect(result).toEqual({
      ok: true,
      value: {
        text: 'services:\n  web:\n    image: tabdock/httpd\n    ports: ["8082:80", "127.0.0.1:9000:9000/tcp", "53:53/udp", 3000]\n  db:\n    image: postgres:16-alpine\n    ports:\n      - target: 5432\n        published: "5433"\n',
        services: [
          { name: 'web', image: 'tabdock/httpd', ports: ['8082:80', '127.0.0.1:9000:9000/tcp', '53:53/udp', '3000'], publishedPorts: [8082, 9000] },
          { name: 'db', image: 'postgres:16-alpine', ports: ['5433:5432'], publishedPorts: [5433] },
        ],
        hasDeployKeys: false,
        project: 'awesome-app',
      },
    });
  });

  it("flags swarm deploy keys, follows YAML anchors and merge keys, and takes the file's own name", () => {
    const result = parseStackFile('name: demo\nx-base: &base\n  image: busybox\nservices:\n  a:\n    <<: *base\n    deploy:\n      replicas: 2\n', LINK);
    expect(result.ok && result.value).toMatchObject({ project: 'demo', hasDeployKeys: true, services: [{ name: 'a', image: 'busybox', ports: [] }] });
  });

  it('refuses what is not YAML, not compose, or cannot run from a link, saying which', () => {
    const code = (text: string) => {
      const result = parseStackFile(text, LINK);
      return result.ok ? 'ok' : result.error.code;
    };
    expect(code('services: [unclosed')).toBe('not-yaml');
    expect(code('services:\n  a: {image: x}\n  a: {image: y}\n')).toBe('not-yaml');
    expect(code('<!doctype html><html><body>GitHub</body></html>')).toBe('not-compose');
    expect(code('just some text')).toBe('not-compose');
    expect(code('version: "3"\n')).toBe('not-compose');
    expect(code('services: {}\n')).toBe('not-compose');
    expect(code('services:\n  a:\n    build: .\n')).toBe('unsupported');
    expect(code('services:\n  a:\n    command: echo\n')).toBe('not-compose');
    expect(code('services:\n  a:\n    image: "busybox; rm -rf /"\n')).toBe('not-compose');
    expect(code('services:\n  a:\n    image: busybox\n    ports: {a: 1}\n')).toBe('not-compose');
    expect(code('services:\n  a:\n    image: "acme/app:${TAG:-latest}"\n')).toBe('unsupported');
  });

  it('refuses control, bidi and invisible characters anywhere in the file, with the line', () => {
    for (const [hidden, name] of [['\u001b[2K', 'Escape'], ['\u202e', 'right-to-left override'], ['\u200b', 'zero width space']] as const) {
      const result = parseStackFile(`services:\n  a:\n    image: busybox\n    command: echo hi${hidden}\n`, LINK);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe('hidden-characters');
        expect(result.error.message).toContain(name);
        expect(result.error.message).toContain('line 4');
      }
    }
  });

  it('stops a file whose aliases expand without bound', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefghij'.split('').map((key, index) => `${key}: &${key} [${Array(9).fill(`*${'abcdefghij'[index]}`).join(',')}]`), 'services: {}'].join('\n');
    const result = parseStackFile(bomb, LINK);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe('not-yaml');
  });
});

describe('ports and project names', () => {
  it('reads the host port the bar will offer from short syntax', () => {
    expect(['8080:80', '127.0.0.1:8080:80', '8080:80/tcp', '80', '8080-8081:80-81', '53:53/udp', '[::1]:8080:80'].map(publishedPort)).toEqual([
      8080, 8080, 8080, undefined, undefined, undefined, 8080,
    ]);
  });

  it("names the project after the file's directory, as compose does, or after the file", () => {
    expect(projectFromLink(LINK)).toBe('awesome-app');
    expect(projectFromLink('https://raw.githubusercontent.com/acme/shop/main/deploy/prod/compose.yaml')).toBe('prod');
    expect(projectFromLink('https://example.com/stacks/WordPress%20Demo.yaml')).toBe('wordpress-demo');
    expect(projectFromLink('https://example.com/compose.yaml')).toBe('stack');
  });
});

/** Pieces of Compose YAML and of what breaks it: aliases, tags, hidden characters, odd ports. */
const FRAGMENTS = ['services:', '\n', '  ', '    ', 'web:', 'image: ', 'tabdock/httpd', '${X}', 'ports:', '- ', '"8080:80"', '99999:80', ':', '[', ']', '{', '}', '&a', '*a', '<<: *a', '!!binary', 'build: .', 'deploy:', 'replicas: 2', '"', "'", '#', '\t', '\u0000', '\u202e', '😀', '---', '...'];
const GOOD = 'services:\n  web:\n    image: tabdock/httpd\n    ports:\n      - "8082:80"\n';

describe('parseStackFile fuzz', () => {
  it('never throws on generated or mutated files; refusals carry a code and a message, and what it accepts has an image per service', () => {
    let accepted = 0;
    for (let seed = 1; seed <= 400; seed += 1) {
      const next = prng(seed);
      let text = '';
      if (seed % 2 === 0) {
        const chars = GOOD.split('');
        for (let edits = below(next, 3); edits > 0; edits -= 1) chars.splice(below(next, chars.length), below(next, 3), pick(next, FRAGMENTS));
        text = chars.join('');
      } else {
        for (let index = below(next, 60); index > 0; index -= 1) text += pick(next, FRAGMENTS);
      }
      const result = parseStackFile(text, LINK);
      if (result.ok) {
        accepted += 1;
        for (const service of result.value.services) expect(service.image, `seed ${seed}`).toMatch(/^[^\s${}]+$/u);
      } else {
        expect(result.error.code, `seed ${seed}`).toBeTruthy();
        expect(result.error.message.length, `seed ${seed}`).toBeGreaterThan(10);
      }
    }
    // Lightly mutated good files must still be accepted sometimes, or the accepted branch above checks nothing.
    expect(accepted).toBeGreaterThan(20);
  });
});
