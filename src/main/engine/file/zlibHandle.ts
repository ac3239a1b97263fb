import { constants } from 'node:zlib';

/** The parts of Node's native zlib handle driven here (present since Node 10, not public API). */
interface NativeZlib {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}

/**
 * A zlib stream's native handle, driven synchronously and reset between uses: the `*Sync` helpers
 * build a Transform stream and a fresh zlib state on every call, which for 16 KiB blocks costs
 * about as much as the work itself.
 */
export class ReusableZlib {
  #failure: string | undefined;

  private constructor(
    private readonly handle: NativeZlib,
    /** [avail_out, avail_in] after each write. */
    private readonly state: Uint32Array,
  ) {
    // Errors arrive through this callback during writeSync; keep them instead of letting the
    // stream object (never used as a stream) destroy itself.
    handle.onerror = (message) => {
      this.#failure = message;
    };
  }

  /** The handle of a stream made by createDeflateRaw / createInflateRaw; null if this Node's differs. */
  static of(stream: object): ReusableZlib | null {
    const { _handle: handle, _writeState: state } = stream as { _handle?: NativeZlib; _writeState?: unknown };
    const usable =
      handle &&
      typeof handle.writeSync === 'function' &&
      typeof handle.reset === 'function' &&
      state instanceof Uint32Array &&
      state.length >= 2;
    return usable ? new ReusableZlib(handle, state) : null;
  }

  /**
   * Resets the handle and writes all of `input` with Z_FINISH into `out[0..limit)`; throws with
   * zlib's message. Returns the output room and the input left over.
   */
  finish(input: Uint8Array, out: Uint8Array, limit: number): { availOut: number; availIn: number } {
    this.#failure = undefined;
    this.handle.reset();
    this.handle.writeSync(constants.Z_FINISH, input, 0, input.length, out, 0, limit);
    if (this.#failure !== undefined) {
      const msg = this.#failure;
      this.#failure = undefined;
      throw new Error(msg);
    }
    return { availOut: this.state[0]!, availIn: this.state[1]! };
  }
}
