import { createInflateRaw, inflateRawSync, constants } from 'node:zlib';

/** The parts of Node's native zlib handle this module drives (present since Node 10, not public API). */
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

let native: { handle: NativeZlib; state: Uint32Array } | null | undefined;
let failure: string | undefined;

/**
 * One raw-inflate handle for the thread, reused. `inflateRawSync` builds a whole Transform stream
 * and a fresh zlib state per call (~10 µs, half the cost of a 16 KiB block); resetting one handle
 * costs nothing. Falls back to `inflateRawSync` if this Node's handle has another shape.
 */
function nativeHandle(): typeof native {
  if (native !== undefined) return native;
  native = null;
  const engine = createInflateRaw() as unknown as { _handle?: NativeZlib; _writeState?: unknown };
  const handle = engine._handle;
  const state = engine._writeState;
  if (
    handle &&
    typeof handle.writeSync === 'function' &&
    typeof handle.reset === 'function' &&
    state instanceof Uint32Array &&
    state.length >= 2
  ) {
    // Errors are reported through this callback during writeSync; keep them here instead of letting
    // the stream object destroy itself (it is never used as a stream).
    handle.onerror = (message) => {
      failure = message;
    };
    native = { handle, state };
  }
  return native;
}

/**
 * Inflates the raw deflate data `input` into `out[0..limit)` and returns the bytes produced. Stops
 * once `limit` bytes are out (so a record near a block's start costs only part of the block);
 * throws with zlib's message on malformed or truncated data.
 */
export function inflateRawInto(input: Uint8Array, out: Buffer, limit: number): number {
  const n = nativeHandle();
  if (!n) {
    const all = inflateRawSync(input, { maxOutputLength: Math.max(limit, out.length) });
    return all.copy(out, 0, 0, Math.min(limit, all.length));
  }
  failure = undefined;
  n.handle.reset();
  n.handle.writeSync(constants.Z_FINISH, input, 0, input.length, out, 0, limit);
  if (failure !== undefined) {
    const msg = failure;
    failure = undefined;
    throw new Error(msg);
  }
  return limit - n.state[0]!;
}
