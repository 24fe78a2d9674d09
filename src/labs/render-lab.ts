// Renders a parsed lab to DOM. Lab Markdown is untrusted (it arrives in links), so every piece of HTML from
// marked goes through DOMPurify with an allow-list, and Run buttons are made here, never taken from the Markdown.
import createDOMPurify, { type DOMPurify } from 'dompurify';
import { Marked, type Tokens } from 'marked';
import type { Lab } from './lab-format.ts';
import { classifyFence } from './parse-lab.ts';
import { describeCharacter, findHiddenInCommand } from './hidden-characters.ts';
import { el } from '../dom.ts';

export interface RenderedCodeBlock {
  element: HTMLElement;
  code: string;
  language: string;
  /** Present for ```sh run blocks; clicking it calls onRun(code). */
  runButton: HTMLButtonElement | null;
}

export interface RenderedStep {
  index: number;
  /** <section class="lab-step">: the panel adds status and Check controls to `header`. */
  section: HTMLElement;
  header: HTMLElement;
  blocks: RenderedCodeBlock[];
  /** The step's check command, shown in a disclosure under the header; null when the step has no check. */
  check: HTMLDetailsElement | null;
}

export interface RenderedLab {
  root: HTMLElement;
  intro: HTMLElement;
  steps: RenderedStep[];
}

export interface RenderOptions {
  document?: Document;
  /** Called with a runnable block's text when its Run button is clicked; stepIndex is null in the intro. */
  onRun?: (command: string, stepIndex: number | null) => void;
}

// Elements and attributes a lab may use. No forms, buttons, iframes, embeds, styles, SVG/MathML, ids or
// classes (ids clobber DOM globals; classes could imitate our status badges). Source for the risks: DOMPurify
// README "What does it do?" and OWASP XSS Prevention Cheat Sheet, rule 6 (sanitise HTML markup).
const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'blockquote', 'pre', 'code', 'kbd',
  'em', 'strong', 'del', 's', 'sup', 'sub', 'a', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  'details', 'summary', 'span', 'div',
];
const ALLOWED_ATTR = ['href', 'title', 'alt', 'src', 'start', 'colspan', 'rowspan', 'align'];
/** Links and images: http(s) and mailto only (no javascript:, data: for links, or relative paths). */
const ALLOWED_URI = /^(?:https?:|mailto:)/i;

const sanitizers = new WeakMap<object, DOMPurify>();

/** One DOMPurify instance per window, with our link hook; the shared default instance is left untouched. */
function sanitizerFor(doc: Document): DOMPurify {
  const view = doc.defaultView;
  if (!view) throw new Error('render-lab: the document has no window; DOMPurify needs one (render in a browser or jsdom).');
  let purify = sanitizers.get(view);
  if (!purify) {
    purify = createDOMPurify(view);
    purify.addHook('afterSanitizeAttributes', (node) => {
      if (node.nodeName === 'A' && node instanceof view.HTMLElement && node.hasAttribute('href')) {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
    sanitizers.set(view, purify);
  }
  return purify;
}

/** Sanitises untrusted HTML into a fragment of `doc`. `extraTags` lets our own placeholders through. */
export function sanitizeLabHtml(html: string, doc: Document, extraTags: string[] = []): DocumentFragment {
  const fragment = sanitizerFor(doc).sanitize(html, {
    ALLOWED_TAGS: [...ALLOWED_TAGS, ...extraTags],
    ALLOWED_ATTR,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOWED_URI_REGEXP: ALLOWED_URI,
    RETURN_DOM_FRAGMENT: true,
  });
  return doc.importNode(fragment, true);
}

/** A random tag name per render, so Markdown cannot forge a code-block placeholder. */
function placeholderTag(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return `tabdock-code-${Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

/** Markdown → sanitised fragment with our code blocks (and Run buttons) in place of fenced blocks. */
export function renderMarkdown(
  markdown: string,
  doc: Document,
  onRun?: (command: string) => void,
): { fragment: DocumentFragment; blocks: RenderedCodeBlock[] } {
  const tag = placeholderTag();
  const fences: Tokens.Code[] = [];
  const marked = new Marked({
    gfm: true,
    async: false,
    renderer: {
      code(token: Tokens.Code): string {
        // A verify block is the step's hidden check; parse-lab only lifts top-level ones out of the step.
        if (classifyFence(token.lang).kind === 'verify') return '';
        fences.push(token);
        return `<${tag}>${fences.length - 1}</${tag}>`;
      },
    },
  });
  const html = marked.parse(markdown, { async: false });
  const fragment = sanitizeLabHtml(html, doc, [tag]);
  const blocks: RenderedCodeBlock[] = [];
  for (const placeholder of Array.from(fragment.querySelectorAll(tag))) {
    const fence = fences[Number(placeholder.textContent)];
    if (!fence) {
      placeholder.remove();
      continue;
    }
    const block = buildCodeBlock(fence, doc, onRun);
    blocks.push(block);
    placeholder.replaceWith(block.element);
  }
  return { fragment, blocks };
}

function buildCodeBlock(fence: Tokens.Code, doc: Document, onRun?: (command: string) => void): RenderedCodeBlock {
  const kind = classifyFence(fence.lang);
  const language = kind.kind === 'code' ? kind.language : '';
  // The parser refuses such labs; this keeps renderMarkdown safe on its own: no Run for a block whose typed
  // bytes would differ from its shown text (issue #24).
  const hidden = findHiddenInCommand(fence.text);
  const runnable = kind.kind === 'code' && kind.runnable && hidden === null;
  const element = el('div', runnable ? 'lab-code lab-code-runnable' : 'lab-code', undefined, doc);
  const pre = el('pre', '', undefined, doc);
  const code = el('code', '', undefined, doc);
  if (/^[\w-]+$/.test(language)) code.className = `language-${language}`;
  code.textContent = fence.text;
  pre.append(code);
  element.append(pre);
  if (hidden) {
    const note = el('p', 'lab-code-refused', `Not runnable: this block holds the invisible character ${describeCharacter(hidden.codePoint)}.`, doc);
    element.append(note);
  }
  let runButton: HTMLButtonElement | null = null;
  if (runnable) {
    runButton = doc.createElement('button');
    runButton.type = 'button';
    runButton.className = 'lab-run';
    runButton.textContent = 'Run';
    runButton.title = 'Type this command into the terminal';
    runButton.addEventListener('click', () => onRun?.(fence.text));
    element.append(runButton);
  }
  return { element, code: fence.text, language, runButton };
}

/** Inline Markdown (a heading's text) → sanitised fragment. */
function renderInline(markdown: string, doc: Document): DocumentFragment {
  const html = new Marked({ gfm: true, async: false }).parseInline(markdown, { async: false });
  return sanitizeLabHtml(html, doc);
}

export function renderLab(lab: Lab, options: RenderOptions = {}): RenderedLab {
  const doc = options.document ?? globalThis.document;
  const root = el('article', 'lab-content', undefined, doc);

  const intro = el('div', 'lab-intro', undefined, doc);
  intro.append(renderMarkdown(lab.intro, doc, (command) => options.onRun?.(command, null)).fragment);
  root.append(intro);

  const steps = lab.steps.map((step, index): RenderedStep => {
    const section = el('section', 'lab-step', undefined, doc);
    const header = el('header', 'lab-step-header', undefined, doc);
    const heading = el('h2', '', undefined, doc);
    const number = el('span', 'lab-step-number', `${index + 1}.`, doc);
    heading.append(number, ' ', renderInline(step.title, doc));
    header.append(heading);
    const body = el('div', 'lab-step-body', undefined, doc);
    const rendered = renderMarkdown(step.markdown, doc, (command) => options.onRun?.(command, index));
    body.append(rendered.fragment);
    const check = step.verify === null ? null : checkDisclosure(step.verify, doc);
    section.append(header, ...(check ? [check] : []), body);
    root.append(section);
    return { index, section, header, blocks: rendered.blocks, check };
  });
  return { root, intro, steps };
}

/** A step's check, shown as it will run (issue #24: nothing runs that the reader cannot see). */
function checkDisclosure(command: string, doc: Document): HTMLDetailsElement {
  const details = el('details', 'lab-verify', undefined, doc);
  const summary = el('summary', '', 'Check command', doc);
  const pre = el('pre', '', undefined, doc);
  const code = el('code', 'lab-verify-command', command, doc);
  pre.append(code);
  details.append(summary, pre);
  return details;
}

/** The lab as an HTML string (tests, static previews). Run buttons are present but inert. */
export function renderLabHtml(lab: Lab, doc: Document = globalThis.document): string {
  return renderLab(lab, { document: doc }).root.outerHTML;
}
