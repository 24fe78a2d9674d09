// Every way a `?stack=` link can fail before anything runs, as one closed set of codes; each reaches the reader
// as a sentence that says what to do, with the raw detail underneath.

export type StackErrorCode =
  | 'bad-link'
  | 'fetch-failed'
  | 'http-status'
  | 'timeout'
  | 'too-large'
  | 'not-text'
  | 'hidden-characters'
  | 'not-yaml'
  | 'not-compose'
  | 'unsupported';

export interface StackError {
  code: StackErrorCode;
  message: string;
  detail?: string;
}

export type StackResult<T> = { ok: true; value: T } | { ok: false; error: StackError };

export function stackError(code: StackErrorCode, message: string, detail?: string): { ok: false; error: StackError } {
  return { ok: false, error: detail === undefined ? { code, message } : { code, message, detail } };
}
