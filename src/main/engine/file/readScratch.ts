import { readWholeFile } from './ActiveSegment';

/** A whole file's bytes in a ReadScratch: valid until `release()`. */
export interface ReadLease {
  readonly bytes: Buffer;
  release(): void;
}

/**
 * One buffer kept for reading whole files one after another (the seal worker's plain segments).
 * A fresh buffer per seal (16 MiB) is mmapped and stays mapped until the reading thread's next
 * collection, which in a worker that allocates little comes seconds later: the process's RSS rose
 * and fell by 16–48 MB from one sample to the next. Kept, the buffer is resident once, for good.
 */
export class ReadScratch {
  #buf: Buffer | undefined;
  #leased = false;

  /** Bytes kept between reads. */
  get capacity(): number {
    return this.#buf?.length ?? 0;
  }

  /** Reads the whole file; while an earlier lease is still out, into a buffer of its own. */
  read(path: string): ReadLease {
    let shared = false;
    let bytes: Buffer;
    try {
      bytes = readWholeFile(path, (size) => {
        if (this.#leased) return Buffer.allocUnsafeSlow(size);
        // Grown with room to spare, so a segment a little larger than the last does not reallocate.
        if (!this.#buf || this.#buf.length < size)
          this.#buf = Buffer.allocUnsafeSlow(Math.ceil(size * 1.125));
        shared = this.#leased = true;
        return this.#buf;
      });
    } catch (err) {
      if (shared) this.#leased = false;
      throw err;
    }
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        if (shared) this.#leased = false;
      },
    };
  }
}
