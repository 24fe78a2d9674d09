// The pages a preview shows instead of the container's answer: a sentence that says what to do, the raw
// detail underneath, and a Try again link. Self-contained HTML (no app CSS: it renders inside the preview).
import type { GuestHttpErrorCode, PreviewRelayErrorCode } from '../shared/contract.ts';

export type PreviewErrorCode = GuestHttpErrorCode | PreviewRelayErrorCode | 'tab-silent' | 'foreign-post';

export interface PreviewError {
  code: PreviewErrorCode;
  message: string;
  detail?: string;
}

const TITLES: Record<PreviewErrorCode, string> = {
  'not-listening': 'The container is not listening on this port',
  timeout: 'The VM did not answer in time',
  'bad-response': 'The port did not answer with HTTP',
  'bad-request': 'This address cannot be previewed',
  'vm-not-running': 'The VM is not running',
  'not-allowed': 'This preview may not open that port',
  'no-tab': 'No tabdock tab is connected',
  'tab-silent': 'The tabdock tab did not answer',
  'foreign-post': 'A form from another site was refused',
};

const STATUS: Record<PreviewErrorCode, number> = {
  'not-listening': 502,
  timeout: 504,
  'bad-response': 502,
  'bad-request': 400,
  'vm-not-running': 503,
  'not-allowed': 403,
  'no-tab': 503,
  'tab-silent': 504,
  'foreign-post': 403,
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function errorPageHtml(error: PreviewError, port: number | undefined): string {
  const title = TITLES[error.code];
  const where = port === undefined ? '' : ` (port ${port})`;
  // Backticks in messages mark commands; show them as code.
  const message = escapeHtml(error.message).replace(/`([^`]+)`/g, '<code>$1</code>');
  const detail = error.detail ? `<details><summary>Details</summary><pre>${escapeHtml(error.detail)}</pre></details>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="dark light">
<title>${escapeHtml(title)}${where}: tabdock port preview</title>
<style>body{font:15px/1.5 system-ui,sans-serif;margin:0;padding:32px;background:#0d1117;color:#e6edf3}
main{max-width:640px}h1{font-size:19px;color:#ffa198;margin:0 0 8px}code,pre{font:13px ui-monospace,monospace;background:#161b22;border-radius:4px}
code{padding:1px 4px}pre{padding:8px;white-space:pre-wrap}a{color:#58a6ff}summary{cursor:pointer;color:#8b949e}</style></head>
<body><main role="alert" data-error-code="${error.code}"><h1>${escapeHtml(title)}${where}</h1><p>${message}</p>${detail}
<p><a href="">Try again</a></p></main></body></html>
`;
}

export function errorResponse(error: PreviewError, port: number | undefined): Response {
  return new Response(errorPageHtml(error, port), {
    status: STATUS[error.code],
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-tabdock-preview-error': error.code },
  });
}
