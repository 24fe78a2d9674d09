// The CORS proxy's fetch on Node for targets whose name only a wildcard allow-list entry matched (*.amazonaws.com,
// *.cloudfront.net...; #24 item 10): such a name is anyone's to point anywhere, so it is resolved once, every
// address is checked as the relay checks its targets (relay-policy.ts addressRefusal), and the connection goes
// to the address that passed (http.request's lookup option), never to a second, different DNS answer.
// node:http rather than the global fetch, whose connection (undici, bundled in Node) takes no lookup hook.
import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { addressRefusal } from '../relay-policy.ts';

export type AddressResolver = (host: string) => Promise<string[]>;

const systemResolver: AddressResolver = (host) =>
  new Promise((resolve, reject) =>
    systemLookup(host, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses.map((a) => a.address)))),
  );

/** A lookup for net.connect that yields only addresses the policy allows, or an error that says which it refused. */
export function checkedLookup(resolve: AddressResolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const allowed = addresses.filter((address) => addressRefusal(address) === undefined);
        if (allowed.length === 0) {
          const error: NodeJS.ErrnoException = new Error(
            addresses.length === 0
              ? `${hostname} has no address`
              : `${hostname} resolves only to addresses the proxy does not reach (${addressRefusal(addresses[0] ?? '')})`,
          );
          error.code = 'EADDRNOTALLOWED';
          callback(error, '', 0);
          return;
        }
        const entries: LookupAddress[] = allowed.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
        if (options.all) (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, entries);
        else callback(null, entries[0]!.address, entries[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

/** A fetch for GET/HEAD with manual redirects (what the proxy asks of it) that dials only checked addresses. */
export function createCheckedFetch(resolve?: AddressResolver): (url: URL, init: RequestInit) => Promise<Response> {
  const lookup = checkedLookup(resolve);
  const agents = { 'http:': new http.Agent({ keepAlive: true, lookup }), 'https:': new https.Agent({ keepAlive: true, lookup }) };
  return (url, init) =>
    new Promise<Response>((resolveResponse, reject) => {
      const agent = url.protocol === 'https:' ? agents['https:'] : url.protocol === 'http:' ? agents['http:'] : undefined;
      if (!agent) {
        reject(new TypeError(`${url.protocol} is not HTTP`));
        return;
      }
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => {
        headers[name] = value;
      });
      const request = (url.protocol === 'https:' ? https : http).request(url, {
        method: init.method ?? 'GET',
        headers,
        agent,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      request.once('error', reject);
      request.once('response', (response) => {
        try {
          const responseHeaders = new Headers();
          for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) responseHeaders.append(response.rawHeaders[i]!, response.rawHeaders[i + 1]!);
          const status = response.statusCode ?? 502;
          const empty = status === 204 || status === 304 || init.method === 'HEAD';
          if (empty) response.resume();
          resolveResponse(
            new Response(empty ? null : (Readable.toWeb(response) as ReadableStream<Uint8Array>), { status, statusText: response.statusMessage ?? '', headers: responseHeaders }),
          );
        } catch (error) {
          response.destroy();
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      request.end();
    });
}
