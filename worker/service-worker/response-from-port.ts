// Service Worker side of a preview response: GuestHttpMessages arriving on a MessagePort (from the VM worker)
// become a streaming Response; failures become the error page. Cancelling the body tells the worker to stop.
import type { GuestHttpControl, GuestHttpMessage } from '../shared/contract.ts';
import { firstIssue, guestHttpMessageSchema } from '../shared/preview-protocol.ts';
import { errorResponse } from './error-page.ts';
import { previewLocation } from './port-routes.ts';

/** Headers that describe the guest connection, not the content; the browser frames the response itself. */
const DROPPED_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'set-cookie']);
/** Statuses a Response may not carry a body with (fetch spec "null body status"). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

export interface PortResponseOptions {
  port: number;
  scope: string;
  /** No first message (head or error) by then: the page or its VM is stuck. */
  firstMessageTimeoutMs: number;
}

export function responseFromPort(channel: MessagePort, options: PortResponseOptions): Promise<Response> {
  return new Promise<Response>((resolve) => {
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let settled = false;
    const send = (message: GuestHttpControl) => channel.postMessage(message);
    const timer = setTimeout(() => {
      settled = true;
      send({ type: 'cancel' });
      channel.close();
      resolve(
        errorResponse(
          {
            code: 'tab-silent',
            message: `The tabdock tab did not answer within ${Math.round(options.firstMessageTimeoutMs / 1000)} s. Its VM may be busy; reload this page in a moment.`,
          },
          options.port,
        ),
      );
    }, options.firstMessageTimeoutMs);

    channel.onmessage = (event: MessageEvent<unknown>) => {
      const parsed = guestHttpMessageSchema.safeParse(event.data);
      // The port crossed from another origin (the app's VM worker): what is not a GuestHttpMessage ends the answer.
      const message: GuestHttpMessage = parsed.success
        ? parsed.data
        : { type: 'error', code: 'bad-response', message: 'The tabdock tab answered with a message a preview cannot read.', detail: firstIssue(parsed.error) };
      if (!parsed.success) send({ type: 'cancel' });
      switch (message.type) {
        case 'head': {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(buildResponse(message, options, (c) => (controller = c), () => {
            send({ type: 'cancel' });
            channel.close();
          }));
          return;
        }
        case 'data':
          controller?.enqueue(message.bytes);
          return;
        case 'end':
          controller?.close();
          channel.close();
          return;
        case 'error':
          channel.close();
          if (!settled) {
            settled = true;
            clearTimeout(timer);
            resolve(errorResponse(message, options.port));
          } else {
            controller?.error(new Error(message.message));
          }
          return;
        default: {
          const unknown: never = message;
          throw new Error(`unknown guest HTTP message ${JSON.stringify(unknown)}`);
        }
      }
    };
  });
}

function buildResponse(
  head: Extract<GuestHttpMessage, { type: 'head' }>,
  options: PortResponseOptions,
  onStart: (controller: ReadableStreamDefaultController<Uint8Array>) => void,
  onCancel: () => void,
): Response {
  if (head.status < 200 || head.status > 599) {
    onCancel();
    return errorResponse(
      { code: 'bad-response', message: `The container answered with status ${head.status}, which a preview cannot show.` },
      options.port,
    );
  }
  const headers = new Headers();
  for (const [name, value] of head.headers) {
    if (DROPPED_HEADERS.has(name)) continue;
    try {
      headers.append(name, name === 'location' ? previewLocation(value, options.port, options.scope) : value);
    } catch {
      // A header value the Headers class refuses (e.g. non-Latin-1): dropped, the rest of the response stands.
    }
  }
  const body = NULL_BODY_STATUSES.has(head.status)
    ? null
    : new ReadableStream<Uint8Array>({ start: onStart, cancel: onCancel });
  if (body === null) onCancel();
  return new Response(body, { status: head.status, statusText: head.statusText, headers });
}
