// Consent for a lab's checks (issue #24, item 8): `verify` commands run as root in the guest, out of the
// terminal's sight, so none runs before the reader has seen the list and accepted it. Acceptance is remembered
// per exact list of commands (a SHA-256 fingerprint in localStorage): a lab whose checks change asks again.
import type { Lab } from './lab-format.ts';

export interface LabCheck {
  stepIndex: number;
  command: string;
}

/** The commands a lab would run as checks, in step order. */
export function labChecks(lab: Pick<Lab, 'steps'>): LabCheck[] {
  return lab.steps.flatMap((step, stepIndex) => (step.verify === null ? [] : [{ stepIndex, command: step.verify }]));
}

/**
 * SHA-256 (hex) of the check list: which step runs which command. Null where Web Crypto is missing (a page
 * served over plain http from another host): acceptance is then not remembered beyond the shown lab.
 */
export async function checksFingerprint(checks: readonly LabCheck[]): Promise<string | null> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) return null;
  const canonical = JSON.stringify({ version: 1, checks: checks.map((check) => [check.stepIndex, check.command]) });
  const digest = await subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export type ConsentStorage = Pick<Storage, 'getItem' | 'setItem'>;

/** The localStorage key holding accepted fingerprints (a JSON array, most recent last). */
export const ACCEPTED_CHECKS_KEY = 'tabdock.labs.acceptedChecks';
/** Older acceptances are forgotten past this many (the reader is asked again). */
export const MAX_REMEMBERED_LABS = 200;

const FINGERPRINT = /^[0-9a-f]{64}$/;

/**
 * The fingerprints of accepted check lists. Kept in memory too, so a refused or full localStorage (storage
 * blocked for a third-party frame, quota) still remembers for as long as the page lives.
 */
export class AcceptedChecks {
  private readonly memory = new Set<string>();

  constructor(private readonly storage: ConsentStorage | null) {}

  has(fingerprint: string): boolean {
    return this.memory.has(fingerprint) || this.read().includes(fingerprint);
  }

  add(fingerprint: string): void {
    this.memory.add(fingerprint);
    this.write([...this.read().filter((known) => known !== fingerprint), fingerprint].slice(-MAX_REMEMBERED_LABS));
  }

  remove(fingerprint: string): void {
    this.memory.delete(fingerprint);
    this.write(this.read().filter((known) => known !== fingerprint));
  }

  private read(): string[] {
    if (!this.storage) return [];
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(ACCEPTED_CHECKS_KEY) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string' && FINGERPRINT.test(item)) : [];
    } catch (error) {
      // Unreadable or not JSON: nothing counts as accepted, so the reader is asked again.
      console.warn('tabdock labs: could not read accepted lab checks; asking again', error);
      return [];
    }
  }

  private write(fingerprints: string[]): void {
    if (!this.storage) return;
    try {
      this.storage.setItem(ACCEPTED_CHECKS_KEY, JSON.stringify(fingerprints));
    } catch (error) {
      console.warn('tabdock labs: could not remember accepted lab checks; they are kept for this page only', error);
    }
  }
}

/** The page's localStorage, or null where reading it throws (storage disabled, sandboxed frame). */
export function defaultConsentStorage(view: Window | null): ConsentStorage | null {
  try {
    return view?.localStorage ?? null;
  } catch (error) {
    console.warn('tabdock labs: localStorage is not available; accepted checks are kept for this page only', error);
    return null;
  }
}
