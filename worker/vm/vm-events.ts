// The VM host's subscribers (VmApi.subscribe): each listener under an id to unsubscribe with, every event to all
// of them in order, and a listener that throws neither stops the others nor the emulator loop.
import type { VmEvent, VmEventListener } from '../shared/contract.ts';

export class VmEvents {
  private readonly listeners = new Map<number, VmEventListener>();
  private nextId = 1;

  subscribe(listener: VmEventListener): number {
    const id = this.nextId++;
    this.listeners.set(id, listener);
    return id;
  }

  unsubscribe(id: number): void {
    this.listeners.delete(id);
  }

  emit(event: VmEvent): void {
    for (const listener of this.listeners.values()) {
      try {
        listener(event);
      } catch (error) {
        // Reported where developers look; the page's other listeners and the emulator go on.
        console.error('tabdock: a VmEvent listener threw', error);
      }
    }
  }
}
