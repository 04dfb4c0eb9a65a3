/**
 * Typed errors. Callers branch on `code`, never on `message` (lodestar's habit): codes are stable API,
 * messages are for humans. `data` carries the per-code details (field name, offset, expected value).
 */

export type ErrorData = Readonly<Record<string, unknown>>;

export class IosnetError<C extends string = string> extends Error {
  readonly code: C;
  readonly data: ErrorData;
  constructor(code: C, message: string, data: ErrorData = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }
}

/** Bytes that are not a valid canonical encoding of the expected object. */
export type DecodeErrorCode =
  | 'DECODE_TRUNCATED'
  | 'DECODE_TRAILING_BYTES'
  | 'DECODE_NON_CANONICAL'
  | 'DECODE_UNEXPECTED_TYPE'
  | 'DECODE_UNSUPPORTED'
  | 'DECODE_INVALID_LENGTH'
  | 'DECODE_OVERSIZE'
  | 'DECODE_INT_RANGE'
  | 'DECODE_INVALID_UTF8'
  | 'DECODE_UNKNOWN_VERSION'
  | 'DECODE_UNKNOWN_TYPE'
  | 'DECODE_INVALID_VALUE'
  | 'DECODE_TOO_DEEP';

export class DecodeError extends IosnetError<DecodeErrorCode> {}

/** A well-formed object whose cryptographic or semantic check failed. */
export type VerifyErrorCode =
  | 'VERIFY_BAD_SIGNATURE'
  | 'VERIFY_MISSING_SIGNATURE'
  | 'VERIFY_WRONG_CHAIN'
  | 'VERIFY_INSUFFICIENT_WEIGHT'
  | 'VERIFY_BITMAP_MISMATCH'
  | 'VERIFY_COMMITTEE_MISMATCH'
  | 'VERIFY_WRONG_SHARD'
  | 'VERIFY_NOT_SUCCESSOR'
  | 'VERIFY_PROOF_INVALID'
  | 'VERIFY_ROOT_MISMATCH'
  | 'VERIFY_STALE'
  | 'VERIFY_INVALID_FIELD';

export class VerifyError extends IosnetError<VerifyErrorCode> {}

/** A caller passed an argument of the wrong type or shape to a public function (noble's `abytes` habit). */
export class ArgumentError extends IosnetError<'ARGUMENT_INVALID'> {
  constructor(argument: string, message: string) {
    super('ARGUMENT_INVALID', `${argument}: ${message}`, { argument });
  }
}

/** Throws DECODE_INVALID_VALUE: the bytes are well-formed CBOR but a field breaks the format's rules. */
export function invalidValue(field: string, reason: string): never {
  throw new DecodeError('DECODE_INVALID_VALUE', `${field}: ${reason}`, { field, reason });
}
