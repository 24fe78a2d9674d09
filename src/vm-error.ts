// Turns whatever a failed call or a crashed worker produced into the contract's VmError, so every failure
// reaches the user the same way: a code, a sentence saying what to do, and the raw detail.
import type { EngineErrorCode, VmError, VmErrorCode } from '../worker/shared/contract.ts';

const KNOWN_CODES: ReadonlySet<string> = new Set<VmErrorCode>([
  'no-webassembly',
  'asset-missing',
  'asset-http',
  'asset-not-binary',
  'asset-hash-mismatch',
  'manifest-invalid',
  'boot-timeout',
  'kernel-panic',
  'dockerd-failed',
  'worker-crashed',
  'exec-timeout',
  'not-running',
  'guest-disk-full',
  'internal',
]);

function isCode(value: unknown): value is VmErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}

/** Anything thrown across comlink (the worker's throw handler keeps code and detail) becomes a VmError. */
export function toVmError(thrown: unknown): VmError {
  if (typeof thrown === 'object' && thrown !== null) {
    const fields = thrown as { code?: unknown; message?: unknown; detail?: unknown; stack?: unknown };
    const message = typeof fields.message === 'string' ? fields.message : String(thrown);
    if (isCode(fields.code)) {
      const error: VmError = { code: fields.code, message };
      if (typeof fields.detail === 'string') error.detail = fields.detail;
      return error;
    }
    return {
      code: 'internal',
      message: `Something unexpected failed in the VM: ${message}. Reload the page; if it happens again, report it with the detail below.`,
      detail: typeof fields.stack === 'string' ? fields.stack : message,
    };
  }
  return {
    code: 'internal',
    message: 'Something unexpected failed in the VM. Reload the page; if it happens again, report it with the detail below.',
    detail: String(thrown),
  };
}

/**
 * The Error a VmClient rejects with: a real Error (stack, instanceof) that is also a VmError (code, detail
 * as fields, like the worker's VmFailure), so callers may read either.
 */
export class VmCallError extends Error implements VmError {
  readonly vmError: VmError;
  readonly code: VmErrorCode;
  readonly detail?: string;
  constructor(vmError: VmError) {
    super(vmError.message);
    this.name = 'VmCallError';
    this.vmError = vmError;
    this.code = vmError.code;
    if (vmError.detail !== undefined) this.detail = vmError.detail;
  }
}

const ENGINE_CODES: ReadonlySet<string> = new Set<EngineErrorCode>(['daemon-unavailable', 'not-found', 'conflict', 'engine-error', 'bad-request']);

/** An Engine API call (VmApi.engineQuery, engineAction) that the daemon refused or could not answer. */
export class EngineCallError extends Error {
  readonly code: EngineErrorCode;
  readonly detail?: string;
  constructor(code: EngineErrorCode, message: string, detail?: string) {
    super(message);
    this.name = 'EngineCallError';
    this.code = code;
    if (detail !== undefined) this.detail = detail;
  }
}

/** The worker's EngineFailure (code and detail kept by its throw handler) as an EngineCallError; else a VmCallError. */
export function toEngineError(thrown: unknown): Error {
  if (typeof thrown === 'object' && thrown !== null) {
    const fields = thrown as { code?: unknown; message?: unknown; detail?: unknown };
    if (typeof fields.code === 'string' && ENGINE_CODES.has(fields.code) && typeof fields.message === 'string') {
      return new EngineCallError(fields.code as EngineErrorCode, fields.message, typeof fields.detail === 'string' ? fields.detail : undefined);
    }
  }
  return new VmCallError(toVmError(thrown));
}
