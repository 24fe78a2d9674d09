// The page's one teardown vocabulary (STYLE.md), in xterm.js's idiom (src/common/Event.ts, Lifecycle.ts):
// an Emitter owns an `event` others subscribe to; each subscription is an IDisposable its owner disposes.

export interface IDisposable {
  dispose(): void;
}

/** Subscribes `listener`; disposing what it returns unsubscribes it. */
export type Event<T> = (listener: (value: T) => void) => IDisposable;

export class Emitter<T> {
  private readonly listeners = new Set<(value: T) => void>();
  private disposed = false;

  readonly event: Event<T> = (listener) => {
    if (this.disposed) return { dispose: () => undefined };
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const entry = (value: T): void => listener(value);
    this.listeners.add(entry);
    return { dispose: () => this.listeners.delete(entry) };
  };

  /** Calls every listener in subscription order; one that subscribes meanwhile hears the next value. */
  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }

  /** Drops every listener; later subscriptions are no-ops. */
  dispose(): void {
    this.disposed = true;
    this.listeners.clear();
  }
}

/** Disposables an owner collects and disposes together, newest first (a feature's subscriptions, a VM's). */
export class DisposableStore implements IDisposable {
  private readonly items: IDisposable[] = [];
  private disposed = false;

  add<D extends IDisposable>(item: D): D {
    // Added after the owner was disposed: nobody would dispose it later, so do it now.
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  dispose(): void {
    this.disposed = true;
    for (const item of this.items.splice(0).reverse()) item.dispose();
  }
}
