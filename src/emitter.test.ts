import { describe, expect, it } from 'vitest';
import { DisposableStore, Emitter } from './emitter.ts';

describe('Emitter', () => {
  it('calls listeners in order until their subscription is disposed', () => {
    const emitter = new Emitter<number>();
    const heard: string[] = [];
    const first = emitter.event((n) => heard.push(`a${n}`));
    emitter.event((n) => heard.push(`b${n}`));
    emitter.fire(1);
    first.dispose();
    emitter.fire(2);
    expect(heard).toEqual(['a1', 'b1', 'b2']);
  });

  it('counts one function subscribed twice as two subscriptions', () => {
    const emitter = new Emitter<void>();
    let calls = 0;
    const listener = (): void => void calls++;
    const one = emitter.event(listener);
    emitter.event(listener);
    one.dispose();
    emitter.fire();
    expect(calls).toBe(1);
  });

  it('lets a listener unsubscribe another during a fire without skipping the rest', () => {
    const emitter = new Emitter<number>();
    const heard: string[] = [];
    const late = { dispose: (): void => undefined };
    emitter.event(() => late.dispose());
    emitter.event((n) => heard.push(`b${n}`));
    Object.assign(late, emitter.event((n) => heard.push(`c${n}`)));
    emitter.fire(1);
    emitter.fire(2);
    expect(heard).toEqual(['b1', 'c1', 'b2']);
  });

  it('is silent once disposed, and ignores later subscriptions', () => {
    const emitter = new Emitter<number>();
    const heard: number[] = [];
    emitter.event((n) => heard.push(n));
    emitter.dispose();
    emitter.event((n) => heard.push(n * 10));
    emitter.fire(1);
    expect(heard).toEqual([]);
  });
});

describe('DisposableStore', () => {
  it('disposes what it holds once, newest first, and at once what comes after', () => {
    const store = new DisposableStore();
    const order: string[] = [];
    store.add({ dispose: () => order.push('first') });
    store.add({ dispose: () => order.push('second') });
    store.dispose();
    store.dispose();
    store.add({ dispose: () => order.push('late') });
    expect(order).toEqual(['second', 'first', 'late']);
  });
});
