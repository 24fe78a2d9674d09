// A list that renders incrementally: one element per key, rebuilt only when its signature changed, moved only
// when the order changed, and at most a page of rows in the DOM with a "Show more" button for the rest. 500
// containers stay responsive because an event rebuilds one row, not 500. Focus inside a rebuilt row moves to
// the same button in its replacement, so keyboard users keep their place.

export interface RowSpec {
  key: string;
  /** A string that changes whenever the row would look different. */
  signature: string;
  build(): HTMLElement;
}

export class KeyedList {
  readonly element: HTMLUListElement;
  private readonly more: HTMLButtonElement;
  private readonly rows = new Map<string, { element: HTMLElement; signature: string }>();
  private limit: number;
  private specs: readonly RowSpec[] = [];
  /** Rows built so far (tests check that an update rebuilds only what changed). */
  builtRows = 0;

  constructor(
    parent: HTMLElement,
    label: string,
    private readonly pageSize: number,
    private readonly noun: string,
  ) {
    this.limit = pageSize;
    this.element = document.createElement('ul');
    this.element.className = 'dv-list';
    this.element.setAttribute('aria-label', label);
    this.more = document.createElement('button');
    this.more.type = 'button';
    this.more.className = 'dv-more';
    this.more.hidden = true;
    this.more.addEventListener('click', () => {
      this.limit += this.pageSize;
      this.render(this.specs);
    });
    parent.append(this.element, this.more);
  }

  render(specs: readonly RowSpec[]): void {
    this.specs = specs;
    const shown = specs.slice(0, this.limit);
    const wanted = new Set<string>();
    let previous: Element | null = null;
    for (const spec of shown) {
      wanted.add(spec.key);
      let row = this.rows.get(spec.key);
      if (!row || row.signature !== spec.signature) {
        const element = spec.build();
        element.dataset['key'] = spec.key;
        if (row) replaceKeepingFocus(row.element, element);
        row = { element, signature: spec.signature };
        this.rows.set(spec.key, row);
        this.builtRows++;
      }
      const expectedAt: Element | null = previous ? previous.nextElementSibling : this.element.firstElementChild;
      if (expectedAt !== row.element) {
        if (previous) previous.after(row.element);
        else this.element.prepend(row.element);
      }
      previous = row.element;
    }
    for (const [key, row] of this.rows) {
      if (wanted.has(key)) continue;
      row.element.remove();
      this.rows.delete(key);
    }
    const hidden = specs.length - shown.length;
    this.more.hidden = hidden <= 0;
    this.more.textContent = `Show ${Math.min(hidden, this.pageSize)} more ${this.noun} (${hidden} not shown)`;
  }

  get shownCount(): number {
    return this.rows.size;
  }
}

function replaceKeepingFocus(old: HTMLElement, next: HTMLElement): void {
  const active = old.ownerDocument.activeElement;
  const focusKey = active instanceof HTMLElement && old.contains(active) ? (active.dataset['focus'] ?? '') : undefined;
  old.replaceWith(next);
  if (focusKey === undefined) return;
  const same = focusKey ? next.querySelector<HTMLElement>(`[data-focus="${focusKey}"]`) : null;
  // The button pressed may be gone (Stop became Start): the row's first button is the nearest place.
  (same ?? next.querySelector<HTMLElement>('button') ?? next).focus();
}
