/** Every failure the engine reports carries one of these codes, so it survives IPC/HTTP as data. */
export const ERROR_CODES = [
  'INVALID_ARGUMENT',
  'INVALID_EVENT',
  'INVALID_CONFIG',
  'CONCURRENCY_CONFLICT',
  'DUPLICATE_ID',
  'NOT_FOUND',
  'LOCKED',
  'READ_ONLY',
  'CLOSED',
  'CORRUPT',
  'IO_ERROR',
  'NO_SPACE',
  'CANCELLED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** A typed engine error: `code` is stable, `message` is for people, `details` names the culprit. */
export class ChronoscopeError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ChronoscopeError';
    this.code = code;
    this.details = details;
  }
  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** Guard for a given code, usable on errors that crossed a transport boundary. */
export function isChronoscopeError(err: unknown, code?: ErrorCode): err is ChronoscopeError {
  return err instanceof ChronoscopeError && (code === undefined || err.code === code);
}

/** Maps Node's I/O errors onto typed errors, keeping the path so the message names the file. */
export function fromIoError(err: unknown, what: string): ChronoscopeError {
  if (err instanceof ChronoscopeError) return err;
  const e = err as { code?: string; message?: string; path?: string } | undefined;
  // SQLite reports a full disk as SQLITE_FULL, not ENOSPC.
  const full = e?.code === 'ENOSPC' || e?.code === 'SQLITE_FULL';
  const code: ErrorCode = full ? 'NO_SPACE' : 'IO_ERROR';
  const msg = full ? `no space left on device while ${what}` : `${what}: ${e?.message ?? String(err)}`;
  return new ChronoscopeError(code, msg, { errno: e?.code, path: e?.path });
}
