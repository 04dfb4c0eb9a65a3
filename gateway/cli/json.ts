/**
 * One conversion from decoded iosnet values to JSON for `--json` output and `iosnet decode`:
 * byte strings as lowercase hex, bigints (amounts) as decimal strings so no precision is lost in
 * JavaScript/jq consumers, sets as arrays; undefined object fields are dropped.
 */
import { toHex } from '../../core/bytes.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function toJson(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return toHex(value);
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`toJson: ${value} has no JSON form`);
      return value;
    case 'object': {
      if (Array.isArray(value)) return value.map(toJson);
      if (value instanceof Set) return [...value].map(toJson);
      const out: { [key: string]: Json } = {};
      for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
      return out;
    }
    default:
      throw new TypeError(`toJson: cannot convert a ${typeof value}`);
  }
}
