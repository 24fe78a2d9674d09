// Where stores and saves live: the newest complete save is the saved session, Reset deletes it, a save removes
// older ones but never a damaged one, and clean-up spares a scratch store whose tab still holds its lock.
import { describe, expect, it } from 'vitest';
import { MemoryFolder } from './disk-folder.ts';
import { SESSION_FILE, SessionDisks, once, type FolderLocks } from './session-disks.ts';

/** Web Locks with ifAvailable: held names answer null; a held lock lasts as long as its callback's promise. */
function fakeLocks(): FolderLocks & { held: Set<string> } {
  const held = new Set<string>();
  return {
    held,
    request(name, _options, callback) {
      if (held.has(name)) return callback(null);
      held.add(name);
      const done = callback({});
      void done.finally(() => held.delete(name));
      return done;
    },
  };
}

async function saveInto(disks: SessionDisks, id: string): Promise<void> {
  const folder = await disks.session(id);
  await folder!.writeAtomic(SESSION_FILE, once(new Uint8Array([1, 2, 3])));
}

describe('SessionDisks', () => {
  it('keeps one saved session: the newest save, never a damaged one', async () => {
    const root = new MemoryFolder();
    const disks = new SessionDisks(root);
    const first = await disks.createSession(new Date('2026-01-01T00:00:00Z'));
    await saveInto(disks, first.id);
    expect((await disks.saved())?.id).toBe(first.id);
    const second = await disks.createSession(new Date('2026-01-02T00:00:00Z'));
    expect((await disks.saved())?.id).toBe(first.id);
    await saveInto(disks, second.id);
    expect((await disks.saved())?.id).toBe(second.id);
    await disks.markDamaged(first.id, 'checksum');
    await disks.removeOthers(second.id);
    expect(await disks.damaged()).toEqual([{ id: first.id, reason: 'checksum' }]);
    await disks.markDamaged(second.id, 'refused');
    expect(await disks.saved()).toBeUndefined();
  });

  it('Reset deletes the saved session; clean-up removes unsaved folders and scratch stores of closed tabs', async () => {
    const root = new MemoryFolder();
    const locks = fakeLocks();
    const disks = new SessionDisks(root, locks);
    const saved = await disks.createSession();
    await saveInto(disks, saved.id);
    const unsaved = await disks.createSession();
    const openTab = await disks.createScratch();
    const closedTab = await disks.createScratch();
    locks.held.delete(`tabdock-scratch-${closedTab.id}`);
    await disks.cleanUp();
    const sessions = (await root.child('sessions', false)) as MemoryFolder;
    const scratch = (await root.child('scratch', false)) as MemoryFolder;
    expect([...sessions.children.keys()]).toEqual([saved.id]);
    expect([...scratch.children.keys()]).toEqual([openTab.id]);
    expect(unsaved.id).not.toBe(saved.id);
    await disks.discardSaved();
    expect(await disks.saved()).toBeUndefined();
    expect([...sessions.children.keys()]).toEqual([]);
  });
});
