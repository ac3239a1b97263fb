import { keyHash } from './keyHash';

/** Entries looked at past the next one before a wider search (in-group duplicates leave gaps). */
const LOOKAHEAD = 8;
/** Entries kept at most: groups whose calls are all refused are never published (nor cleared). */
const MAX_ENTRIES = 1 << 17;

/**
 * keyHash of the ids the append path has looked up, in lookup order, so that publishing the same
 * events takes each id's hash instead of hashing it again: at ~150 ns an id (36 characters), the
 * duplicate check and the publish hashing every id anew were ~5 % of an append's time.
 *
 * A noted hash is only ever used for an id equal to the one noted, so a stale or skipped entry can
 * cost a fresh hash, never a wrong one.
 */
export class IdHashMemo {
  #ids: string[] = [];
  #hashes: number[] = [];
  /** The next entry to look at. */
  #at = 0;
  /** A wide search found nothing since the last clear: the rest are hashed afresh. */
  #lost = false;
  /** hashOf calls that had to hash (tests, metrics). */
  misses = 0;

  /** keyHash(id), noted for a later hashOf of the same id. */
  note(id: string): number {
    if (this.#ids.length >= MAX_ENTRIES) this.clear();
    const h = keyHash(id);
    this.#ids.push(id);
    this.#hashes.push(h);
    return h;
  }

  /** keyHash(id): the noted hash when the id was noted after the last one taken, else computed. */
  hashOf(id: string): number {
    const ids = this.#ids;
    const near = Math.min(ids.length, this.#at + LOOKAHEAD);
    for (let j = this.#at; j < near; j++) if (ids[j] === id) return this.#take(j);
    // A refused call or a failed group left a run of ids that are not published: skip past it once.
    if (!this.#lost) {
      for (let j = near; j < ids.length; j++) if (ids[j] === id) return this.#take(j);
      this.#lost = true;
    }
    this.misses++;
    return keyHash(id);
  }

  #take(j: number): number {
    this.#at = j + 1;
    return this.#hashes[j]!;
  }

  /** Forgets every noted id (after a group is published). */
  clear(): void {
    this.#ids.length = 0;
    this.#hashes.length = 0;
    this.#at = 0;
    this.#lost = false;
  }

  /** Ids noted and not yet cleared (tests). */
  get size(): number {
    return this.#ids.length;
  }
}
