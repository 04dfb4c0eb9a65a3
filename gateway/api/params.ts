/** Path and query parameters: strict, typed 400s naming the parameter. */
import { ApiError } from './errors.js';

/** Exactly `length` bytes as hex (either case, no 0x): ids, addresses, hashes. */
export function hexParam(value: string, name: string, length: number): Uint8Array {
  if (!/^[0-9a-fA-F]*$/.test(value) || value.length % 2 !== 0) {
    throw new ApiError(400, 'INVALID_HEX', `${name} is not hex`, { param: name });
  }
  if (value.length !== 2 * length) {
    throw new ApiError(
      400,
      'INVALID_LENGTH',
      `${name} must be ${length} bytes (${2 * length} hex digits), got ${value.length / 2}`,
      { param: name, expected: length },
    );
  }
  return new Uint8Array(Buffer.from(value, 'hex'));
}

/** A decimal integer in min..Number.MAX_SAFE_INTEGER without sign, leading zeros or exponent. */
export function uintParam(value: string, name: string, min = 0): number {
  if (!/^(0|[1-9]\d{0,15})$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw new ApiError(400, 'INVALID_PARAM', `${name} must be an integer >= ${min}`, { param: name });
  }
  return Number(value);
}

/** Query parameters a route accepts; anything else is refused rather than silently ignored. */
export function onlyQuery(
  query: URLSearchParams,
  allowed: Readonly<Record<string, readonly string[]>>,
): void {
  for (const [k, v] of query) {
    const values = allowed[k];
    if (!values) throw new ApiError(400, 'INVALID_PARAM', `unknown query parameter ${k}`, { param: k });
    if (!values.includes(v)) {
      throw new ApiError(400, 'INVALID_PARAM', `${k} must be one of ${values.join(', ')}`, { param: k });
    }
  }
}
