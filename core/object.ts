/**
 * Every top-level iosnet object is a CBOR array whose first two items are its format version and its
 * object type: [version, type, ...fields]. One registry of types makes any object self-describing, so a
 * tool (`iosnet decode`) or a peer can tell what it holds before parsing the rest, and a byte string valid
 * as one type can never parse as another. Numbers are never reused once assigned (docs/protocol.md).
 */
import { type CborReader, CborWriter } from './cbor.js';
import { DecodeError } from './errors.js';

export const FORMAT_VERSION = 1;

export const ObjectType = {
  tx: 1,
  blockHeader: 2,
  block: 3,
  finalityCertificate: 4,
  stateBlock: 5,
  committee: 6,
  genesis: 7,
  account: 8,
  smtProof: 9,
  merkleProof: 10,
  validatorRecord: 11,
  deviceRecord: 12,
  serviceRecord: 13,
  fileRecord: 14,
  atomixLockRecord: 15,
  stateProof: 16,
  txInclusionProof: 17,
  committeeTransition: 18,
  proposal: 19,
  vote: 20,
  reviewRecord: 21,
} as const;

export type ObjectTypeName = keyof typeof ObjectType;
export type ObjectTypeCode = (typeof ObjectType)[ObjectTypeName];

const TYPE_NAMES = new Map<number, ObjectTypeName>(
  (Object.entries(ObjectType) as [ObjectTypeName, number][]).map(([k, v]) => [v, k]),
);

export function objectTypeName(code: number): ObjectTypeName | undefined {
  return TYPE_NAMES.get(code);
}

/** Starts an object: array header of 2 + fieldCount items, then version and type. */
export function writeEnvelope(w: CborWriter, type: ObjectTypeCode, fieldCount: number): CborWriter {
  return w
    .array(2 + fieldCount)
    .uint(FORMAT_VERSION)
    .uint(type);
}

export function newObjectWriter(type: ObjectTypeCode, fieldCount: number, initialSize = 256): CborWriter {
  return writeEnvelope(new CborWriter(initialSize), type, fieldCount);
}

/** Reads [version, type] of an object with exactly fieldCount further fields. */
export function readEnvelope(r: CborReader, type: ObjectTypeCode, fieldCount: number): void {
  const name = objectTypeName(type) ?? 'object';
  r.array(name, 2 + fieldCount);
  const version = r.uint(`${name}.version`);
  if (version !== FORMAT_VERSION) {
    throw new DecodeError('DECODE_UNKNOWN_VERSION', `${name}: unknown version ${version}`, {
      field: `${name}.version`,
      version,
    });
  }
  const got = r.uint(`${name}.type`);
  if (got !== type) {
    throw new DecodeError(
      'DECODE_UNKNOWN_TYPE',
      `${name}: expected object type ${type}, got ${objectTypeName(got) ?? got}`,
      { field: `${name}.type`, expected: type, got },
    );
  }
}

/** Rejects input longer than a kind's bound before any parsing work. */
export function assertMaxSize(bytes: Uint8Array, max: number, name: string): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new DecodeError('DECODE_UNEXPECTED_TYPE', `${name}: expected bytes`, { field: name });
  }
  if (bytes.length > max) {
    throw new DecodeError('DECODE_OVERSIZE', `${name}: ${bytes.length} bytes exceeds ${max}`, {
      field: name,
      max,
      got: bytes.length,
    });
  }
}
