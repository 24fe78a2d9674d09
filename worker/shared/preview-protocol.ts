// Every message of the port preview's boundaries, as zod schemas: the app page and the preview shell (two
// origins, README "Port preview"), the Service Worker and whoever relays for it, the VM worker's answers.
// Receivers parse what arrives; nothing crossing an origin is used before it passed one of these.
import * as z from 'zod/mini';
import type { GuestHttpControl, GuestHttpMessage, GuestHttpRequest, PortPreviewRequestMessage } from './contract.ts';

/** Larger request bodies are refused: the Service Worker holds a body in memory while it crosses. */
export const MAX_PREVIEW_BODY_BYTES = 64 * 1024 * 1024;
/** The app's offer and the shell's answers carry this; a shell from another build says so instead of guessing. */
export const PREVIEW_PROTOCOL_VERSION = 1;

/** RFC 9110 token, as http1-response.ts checks it again before anything reaches the guest. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/;
const NO_LINE_BREAKS = /^[^\r\n\0]*$/;

export const tcpPort = z.int().check(z.gte(1), z.lte(65535));

const header = z.tuple([z.string().check(z.maxLength(256), z.regex(TOKEN)), z.string().check(z.maxLength(16_384), z.regex(NO_LINE_BREAKS))]);
const headers = z.array(header).check(z.maxLength(256));

export const guestHttpRequestSchema = z.strictObject({
  port: tcpPort,
  method: z.string().check(z.minLength(1), z.maxLength(32), z.regex(TOKEN)),
  target: z.string().check(z.maxLength(16_384), z.regex(ORIGIN_FORM)),
  headers,
  body: z.optional(z.instanceof(ArrayBuffer).check(z.refine((body) => body.byteLength <= MAX_PREVIEW_BODY_BYTES, 'body over 64 MiB'))),
});

/** Service Worker to the client that relays for it (the preview shell, or the app page without a preview origin). */
export const portRequestMessageSchema = z.strictObject({ type: z.literal('tabdock-port-request'), request: guestHttpRequestSchema });

const errorCode = z.enum(['not-listening', 'timeout', 'bad-response', 'bad-request', 'vm-not-running', 'not-allowed', 'no-tab']);

/** What the VM worker streams back to the Service Worker (worker/vm/net/guest-http-port.ts). */
export const guestHttpMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('head'), status: z.int(), statusText: z.string(), headers: z.array(z.tuple([z.string(), z.string()])) }),
  z.strictObject({ type: z.literal('data'), bytes: z.instanceof(Uint8Array) }),
  z.strictObject({ type: z.literal('end') }),
  z.strictObject({ type: z.literal('error'), code: errorCode, message: z.string(), detail: z.optional(z.string()) }),
]);

export const guestHttpControlSchema = z.strictObject({ type: z.literal('cancel') });

/** App to preview shell, by window.postMessage with the connection's MessagePort as ports[0]. */
export const previewOfferSchema = z.strictObject({ type: z.literal('tabdock-preview-offer'), version: z.literal(PREVIEW_PROTOCOL_VERSION), port: tcpPort });
export type PreviewOffer = z.infer<typeof previewOfferSchema>;

/** Why a shell cannot relay; each comes with a sentence the app shows. */
export const shellFailureCode = z.enum(['no-service-worker', 'wrong-port', 'old-shell']);
export type ShellFailureCode = z.infer<typeof shellFailureCode>;

/** Preview shell to app, on the connection. A 'request' carries the Service Worker's reply port as ports[0]. */
export const shellMessageSchema = z.discriminatedUnion('type', [
  /** The shell took this offer (sent at once: the app stops offering and drops its other channels). */
  z.strictObject({ type: z.literal('hello'), port: tcpPort }),
  /** The shell's Service Worker is active: pages of `port` may load now. */
  z.strictObject({ type: z.literal('ready'), port: tcpPort }),
  z.strictObject({ type: z.literal('failed'), code: shellFailureCode, message: z.string().check(z.maxLength(2_000)) }),
  z.strictObject({ type: z.literal('request'), request: guestHttpRequestSchema }),
  /** The shell is unloading (reload, navigation, closed tab): offer again if it comes back. */
  z.strictObject({ type: z.literal('bye') }),
]);
export type ShellMessage = z.infer<typeof shellMessageSchema>;

/** App to preview shell, on the connection. */
export const appMessageSchema = z.discriminatedUnion('type', [
  /** The app page is going away (closed, reloaded): its VM no longer answers. */
  z.strictObject({ type: z.literal('closing') }),
  /** The panel's Reload: the shell reloads the page in the app's frame named `frame` (same origin as the shell). */
  z.strictObject({ type: z.literal('reload-frame'), frame: z.string().check(z.maxLength(64)) }),
]);
export type AppMessage = z.infer<typeof appMessageSchema>;

// What passed a schema is the contract's type (a data message's bytes may be narrower: an ArrayBuffer's view);
// these lines stop the two from drifting apart.
type Fits<A, B> = [A] extends [B] ? true : false;
const agree: [
  Fits<z.infer<typeof guestHttpRequestSchema>, GuestHttpRequest>,
  Fits<GuestHttpRequest, z.infer<typeof guestHttpRequestSchema>>,
  Fits<z.infer<typeof portRequestMessageSchema>, PortPreviewRequestMessage>,
  Fits<z.infer<typeof guestHttpMessageSchema>, GuestHttpMessage>,
  Fits<z.infer<typeof guestHttpControlSchema>, GuestHttpControl>,
] = [true, true, true, true, true];
void agree;

/** The first issue of a failed parse, as one short line for a log or an error page's detail. */
export function firstIssue(error: z.core.$ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid message';
  return `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`;
}
