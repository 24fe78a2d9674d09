// Subscribers get every event in order until they unsubscribe; one that throws does not stop the others.
import { describe, expect, it, vi } from 'vitest';
import type { VmEvent } from '../shared/contract.ts';
import { VmEvents } from './vm-events.ts';

describe('VmEvents', () => {
  it('delivers to every subscriber until it unsubscribes, past one that throws', () => {
    const events = new VmEvents();
    const seen: string[] = [];
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    events.subscribe(() => {
      throw new Error('broken page listener');
    });
    const id = events.subscribe((event) => seen.push(event.type));
    const stage: VmEvent = { type: 'stage', stage: 'ready', atMs: 1 };
    events.emit(stage);
    events.unsubscribe(id);
    events.emit(stage);
    expect(seen).toEqual(['stage']);
    expect(quiet).toHaveBeenCalledTimes(2);
    quiet.mockRestore();
  });
});
