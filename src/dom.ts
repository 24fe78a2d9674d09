// The page's one element factory: text goes in through textContent only, never as HTML. Buttons are always
// type="button", so one inside a form never submits it.

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text?: string, doc: Document = document): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  if (tag === 'button') node.setAttribute('type', 'button');
  return node;
}
