import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

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
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const shared = !this.#leased;
      let buf: Buffer;
      if (!shared) buf = Buffer.allocUnsafeSlow(size);
      else {
        // Grown with room to spare, so a segment a little larger than the last does not reallocate.
        if (!this.#buf || this.#buf.length < size)
          this.#buf = Buffer.allocUnsafeSlow(Math.ceil(size * 1.125));
        buf = this.#buf;
        this.#leased = true;
      }
      let got = 0;
      try {
        while (got < size) {
          const n = readSync(fd, buf, got, size - got, got);
          if (n === 0) break;
          got += n;
        }
      } catch (err) {
        if (shared) this.#leased = false;
        throw err;
      }
      let released = false;
      return {
        bytes: buf.subarray(0, got),
        release: () => {
          if (released) return;
          released = true;
          if (shared) this.#leased = false;
        },
      };
    } finally {
      closeSync(fd);
    }
  }
}
