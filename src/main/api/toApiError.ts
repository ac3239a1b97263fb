import type { ApiError } from '../../shared/api';
import { ChronoscopeError, ERROR_CODES, type ErrorCode } from '../../shared/errors';

/** Turns anything thrown into a typed error envelope; unknown errors become INTERNAL without their stack. */
export function toApiError(err: unknown, onInternal?: (err: unknown) => void): ApiError {
  if (err instanceof ChronoscopeError || isCodedError(err)) {
    const e = err as ChronoscopeError;
    return e.details === undefined
      ? { code: e.code, message: e.message }
      : { code: e.code, message: e.message, details: e.details };
  }
  onInternal?.(err);
  return {
    code: 'INTERNAL',
    message: 'internal error: the operation failed unexpectedly (see the host log)',
  };
}

/** Errors rebuilt across a worker boundary keep their code but not their class. */
function isCodedError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return err.name === 'ChronoscopeError' && ERROR_CODES.includes(code as ErrorCode);
}
