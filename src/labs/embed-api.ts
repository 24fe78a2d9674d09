// Embed mode: a page that puts tabdock in an <iframe> drives it with postMessage. Messages in are validated
// (zod) and accepted only from the embedding window, from an allowed origin; events out mirror the lab panel.
// Protocol: every message is an object with `tabdock: 1` and a `type`; see EmbedRequest and EmbedEvent.
import { z } from 'zod';
import type { EngineQuery, EngineQueryResults } from '../../worker/shared/contract.ts';
import type { LabPanelEvent, LabPanelHandle } from './lab-panel.ts';
import { fromSource } from './load-lab.ts';
import { MAX_LAB_CHARS } from './lab-format.ts';
import { describeCharacter, findHiddenInCommand } from './hidden-characters.ts';

export const EMBED_PROTOCOL_VERSION = 1;
/** Longest command a parent may ask to type; a lab's own blocks are not limited by this. */
export const MAX_EMBED_COMMAND_CHARS = 4096;

const requestId = z.string().min(1).max(64);

/** A command the parent asks to type: no control or invisible characters, which readline would act on (issue #24). */
const typedCommand = z
  .string()
  .min(1)
  .max(MAX_EMBED_COMMAND_CHARS)
  .superRefine((command, ctx) => {
    const hit = findHiddenInCommand(command);
    if (hit) ctx.addIssue({ code: 'custom', message: `holds the character ${describeCharacter(hit.codePoint)}; send visible text only (newlines and tabs are fine)` });
  });

const embedRequestSchema = z.discriminatedUnion('type', [
  /** Type a command into the terminal, as a Run button does. */
  z.strictObject({ tabdock: z.literal(EMBED_PROTOCOL_VERSION), type: z.literal('run'), id: requestId, command: typedCommand }),
  /** Check one step now; answered with the step's status. */
  z.strictObject({ tabdock: z.literal(EMBED_PROTOCOL_VERSION), type: z.literal('check'), id: requestId, stepIndex: z.number().int().min(0).max(999) }),
  /** Show a lab given as text (same format as a .md lab file). */
  z.strictObject({ tabdock: z.literal(EMBED_PROTOCOL_VERSION), type: z.literal('load-lab'), id: requestId, source: z.string().min(1).max(MAX_LAB_CHARS) }),
  /**
   * A read-only Docker Engine API query, answered from the VM's dockerd (list containers, images, networks,
   * volumes; an image's layers; the daemon's version). Writes stay with the terminal (`run`).
   */
  z.strictObject({
    tabdock: z.literal(EMBED_PROTOCOL_VERSION),
    type: z.literal('engine-query'),
    id: requestId,
    query: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.enum(['version', 'containers', 'images', 'networks', 'volumes']) }),
      z.strictObject({ kind: z.literal('image-history'), id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,255}$/) }),
    ]),
  }),
  /** Ask for 'ready' again (e.g. the parent attached its listener late). */
  z.strictObject({ tabdock: z.literal(EMBED_PROTOCOL_VERSION), type: z.literal('ping'), id: requestId }),
]);

export type EmbedRequest = z.infer<typeof embedRequestSchema>;

export const CHECKS_NOT_ACCEPTED_ERROR =
  "checks-not-accepted: the reader has not accepted this lab's checks; they are asked in the frame, and a checks-consent event says when they answer";

export type EmbedEvent =
  | { tabdock: 1; type: 'ready' }
  | { tabdock: 1; type: 'reply'; id: string; ok: true; status?: string }
  /** The answer to an 'engine-query': the contract's shapes (worker/shared/engine-contract.ts EngineQueryResults). */
  | { tabdock: 1; type: 'reply'; id: string; ok: true; result: EngineQueryResults[EngineQuery['kind']] }
  | { tabdock: 1; type: 'reply'; id: string; ok: false; error: string }
  | { tabdock: 1; type: 'lab-shown'; title: string; stepCount: number }
  | { tabdock: 1; type: 'step-status'; stepIndex: number; status: string }
  | { tabdock: 1; type: 'step-done'; stepIndex: number; title: string }
  | { tabdock: 1; type: 'lab-complete'; title: string }
  /** The reader's answer in the frame to "This lab checks your work by running these commands". */
  | { tabdock: 1; type: 'checks-consent'; state: 'asking' | 'accepted' | 'declined' }
  /** The machine failed to start or stopped; `code` is the VM error code (worker/shared/contract.ts VmErrorCode). */
  | { tabdock: 1; type: 'error'; code: string; message: string };

export type ParseRequestResult = { ok: true; request: EmbedRequest } | { ok: false; reason: string; id?: string };

/** Validates one incoming message; non-tabdock messages (other scripts' postMessage) are reported as such. */
export function parseEmbedRequest(data: unknown): ParseRequestResult {
  if (typeof data !== 'object' || data === null || !('tabdock' in data)) return { ok: false, reason: 'not a tabdock message' };
  const parsed = embedRequestSchema.safeParse(data);
  if (parsed.success) return { ok: true, request: parsed.data };
  const id = 'id' in data && typeof data.id === 'string' && data.id.length <= 64 ? data.id : undefined;
  const reason = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || 'message'}: ${issue.message}`).join('; ');
  return id === undefined ? { ok: false, reason } : { ok: false, reason, id };
}

/** Exact origin match; '*' in the list accepts any origin (for local demos only). */
export function isAllowedOrigin(origin: string, allowedOrigins: readonly string[]): boolean {
  return allowedOrigins.includes('*') || allowedOrigins.includes(origin);
}

/** The allowed parent origins from the embed page's own address: `?parentOrigin=https://a.example` (repeatable). */
export function allowedOriginsFromLocation(location: Pick<Location, 'search'>): string[] {
  return new URLSearchParams(location.search).getAll('parentOrigin').flatMap((value) => {
    try {
      const origin = new URL(value).origin;
      return origin === 'null' ? [] : [origin];
    } catch {
      // Not a URL: ignored, so a typo allows nothing rather than everything.
      return [];
    }
  });
}

export interface EmbedBridgeDeps {
  /** The iframe's window (receives messages) and the embedding window (sends them). */
  self: Pick<Window, 'addEventListener' | 'removeEventListener'>;
  parent: Pick<Window, 'postMessage'>;
  allowedOrigins: readonly string[];
  panel: LabPanelHandle;
  /** Type a command into the terminal; the same function the panel's onRun uses. */
  onRun(command: string): void;
  /** A read-only Engine API query (VmClient.engineQuery); absent while no VM runs. */
  engineQuery?: (query: EngineQuery) => Promise<EngineQueryResults[EngineQuery['kind']]>;
}

/**
 * Posts one event to the embedding page, once per allowed origin: the browser delivers only the one matching
 * the parent's real origin (HTML standard, window.postMessage targetOrigin). An empty list sends nothing.
 */
export function postEmbedEvent(parent: Pick<Window, 'postMessage'>, allowedOrigins: readonly string[], event: EmbedEvent): void {
  for (const origin of allowedOrigins) parent.postMessage(event, origin);
}

/** Connects a lab panel to the embedding page. Returns a function that disconnects it. */
export function connectEmbedBridge(deps: EmbedBridgeDeps): () => void {
  const send = (event: EmbedEvent): void => postEmbedEvent(deps.parent, deps.allowedOrigins, event);

  const onMessage = (message: Event): void => {
    const event = message as MessageEvent;
    if (event.source !== (deps.parent as unknown) || !isAllowedOrigin(event.origin, deps.allowedOrigins)) return;
    const parsed = parseEmbedRequest(event.data);
    if (!parsed.ok) {
      if (parsed.id !== undefined) send({ tabdock: 1, type: 'reply', id: parsed.id, ok: false, error: parsed.reason });
      return;
    }
    void handle(parsed.request).then((reply) => send(reply));
  };

  async function handle(request: EmbedRequest): Promise<EmbedEvent> {
    switch (request.type) {
      case 'run':
        deps.onRun(request.command);
        return { tabdock: 1, type: 'reply', id: request.id, ok: true };
      case 'check': {
        if (request.stepIndex >= deps.panel.statuses().length) {
          return { tabdock: 1, type: 'reply', id: request.id, ok: false, error: `no step ${request.stepIndex} in this lab` };
        }
        // Only the reader's click in the frame allows checks; the embedding page cannot (issue #24).
        if (!(await deps.panel.checksAllowed())) {
          return { tabdock: 1, type: 'reply', id: request.id, ok: false, error: CHECKS_NOT_ACCEPTED_ERROR };
        }
        const status = await deps.panel.checkStep(request.stepIndex);
        return { tabdock: 1, type: 'reply', id: request.id, ok: true, status };
      }
      case 'load-lab': {
        const result = fromSource(request.source, { kind: 'inline' }, 'the lab sent by the embedding page');
        deps.panel.load(result);
        return result.kind === 'loaded'
          ? { tabdock: 1, type: 'reply', id: request.id, ok: true }
          : { tabdock: 1, type: 'reply', id: request.id, ok: false, error: result.kind === 'error' ? `${result.error.message}\n${result.error.detail ?? ''}` : 'no lab' };
      }
      case 'engine-query': {
        if (!deps.engineQuery) return { tabdock: 1, type: 'reply', id: request.id, ok: false, error: 'the VM is not running' };
        try {
          return { tabdock: 1, type: 'reply', id: request.id, ok: true, result: await deps.engineQuery(request.query) };
        } catch (error) {
          return { tabdock: 1, type: 'reply', id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
        }
      }
      case 'ping':
        send({ tabdock: 1, type: 'ready' });
        return { tabdock: 1, type: 'reply', id: request.id, ok: true };
      default: {
        const unreachable: never = request;
        return { tabdock: 1, type: 'reply', id: String((unreachable as { id?: unknown }).id), ok: false, error: 'unknown request' };
      }
    }
  }

  const unsubscribe = deps.panel.on((event) => {
    const out = toEmbedEvent(event);
    if (out) send(out);
  });
  deps.self.addEventListener('message', onMessage);
  send({ tabdock: 1, type: 'ready' });
  return () => {
    unsubscribe();
    deps.self.removeEventListener('message', onMessage);
  };
}

/** The panel events an embedding page sees; commands typed, setup output and share links stay inside. */
function toEmbedEvent(event: LabPanelEvent): EmbedEvent | null {
  switch (event.type) {
    case 'lab-shown':
      return { tabdock: 1, type: 'lab-shown', title: event.title, stepCount: event.stepCount };
    case 'step-status':
      return { tabdock: 1, type: 'step-status', stepIndex: event.stepIndex, status: event.status };
    case 'step-done':
      return { tabdock: 1, type: 'step-done', stepIndex: event.stepIndex, title: event.title };
    case 'lab-complete':
      return { tabdock: 1, type: 'lab-complete', title: event.title };
    case 'checks-consent':
      return { tabdock: 1, type: 'checks-consent', state: event.state };
    case 'run':
    case 'setup-finished':
    case 'share-link':
      return null;
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
