/**
 * The API's errors: every failure is `{"error": {"code", "message"}}` with a 4xx/5xx status. Codes are
 * stable (clients branch on them); the typed errors of core, the mempool and the state keep their own codes
 * (DECODE_*, VERIFY_*, MEMPOOL_*, ...) so a client sees exactly why a transaction was refused.
 */
import { IosnetError } from '../../core/errors.js';

export type ApiErrorCode =
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'INVALID_PARAM'
  | 'INVALID_HEX'
  | 'INVALID_LENGTH'
  | 'INVALID_JSON'
  | 'INVALID_BODY'
  | 'BODY_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'BLOCK_PRUNED'
  | 'NOT_YET_AVAILABLE'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export class ApiError extends IosnetError<string> {
  constructor(
    readonly status: number,
    code: ApiErrorCode | string,
    message: string,
    data: Readonly<Record<string, unknown>> = {},
  ) {
    super(code, message, data);
  }
}

export const notFound = (message: string) => new ApiError(404, 'NOT_FOUND', message);

/** Status of a typed error raised below the API; anything untyped is an internal error (500). */
function statusOf(code: string): number {
  if (code === 'MEMPOOL_DUPLICATE') return 409;
  // A full pool is the node's state, not the client's fault: retry later (or pay a higher fee rate).
  if (code === 'MEMPOOL_FULL') return 503;
  if (code === 'STATE_HEIGHT_NOT_RETAINED') return 503;
  if (/^(DECODE|VERIFY|MEMPOOL|TX|ARGUMENT|AMOUNT)_/.test(code)) return 400;
  return 500;
}

/** The ApiError to send for anything thrown by a handler (the message of an untyped error is not shown). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof IosnetError) {
    const status = statusOf(err.code);
    if (status < 500 || status === 503) return new ApiError(status, err.code, err.message);
  }
  return new ApiError(500, 'INTERNAL', 'internal error (see the node log)');
}
