/**
 * The idCheck byte of every appended event not yet sealed, by seq. When a segment is sealed, its
 * events' bytes go to the sealed id table with its hashes (which come from the segment index and
 * hold only 32 bits), so the append path's duplicate check can tell more collisions apart.
 */
export class PendingIdChecks {
  /** Seq of #buf[0]. */
  #first = 1;
  #len = 0;
  #buf = new Uint8Array(1 << 16);

  set(seq: number, check: number): void {
    if (this.#len === 0) this.#first = seq;
    const at = seq - this.#first;
    if (at < 0) return; // older than what is kept: already sealed
    if (at >= this.#buf.length) {
      const bigger = new Uint8Array(Math.max(at + 1, this.#buf.length * 2));
      bigger.set(this.#buf.subarray(0, this.#len));
      this.#buf = bigger;
    }
    if (at > this.#len) this.#buf.fill(0, this.#len, at); // a gap: unknown
    this.#buf[at] = check;
    this.#len = Math.max(this.#len, at + 1);
  }

  /** The bytes of seqs firstSeq … firstSeq + n - 1 (0 where unknown); forgets every seq up to the last of them. */
  take(firstSeq: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    const from = Math.max(firstSeq, this.#first);
    const to = Math.min(firstSeq + n, this.#first + this.#len);
    if (from < to) out.set(this.#buf.subarray(from - this.#first, to - this.#first), from - firstSeq);
    this.#dropThrough(firstSeq + n - 1);
    return out;
  }

  #dropThrough(seq: number): void {
    const drop = Math.min(this.#len, seq - this.#first + 1);
    if (drop <= 0) return;
    this.#buf.copyWithin(0, drop, this.#len);
    this.#len -= drop;
    this.#first += drop;
  }

  /** Seqs held (tests). */
  get size(): number {
    return this.#len;
  }
}
