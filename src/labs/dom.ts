// A tiny element factory for the lab UI: text goes in through textContent only, never as HTML.

export interface ElementProps {
  className?: string;
  textContent?: string;
  /** For buttons: always 'button', so a panel inside a form never submits it. */
  type?: 'button';
}

export function el<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, props: ElementProps = {}): HTMLElementTagNameMap[K] {
  const element = doc.createElement(tag);
  if (props.className !== undefined) element.className = props.className;
  if (props.textContent !== undefined) element.textContent = props.textContent;
  if (props.type !== undefined) element.setAttribute('type', props.type);
  return element;
}
