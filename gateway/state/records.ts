/**
 * Codecs of the records only gateways read (docs/state-records.md): ValidatorRecord (object type 11),
 * ServiceRecord (13) and ReviewRecord (21). Positional
 * canonical CBOR with the [1, type, ...] envelope and strict decoding, like core/state.ts: a record's bytes
 * are hashed into the state root, so exactly one encoding of each value may exist.
 */
import { CborReader, CborWriter } from '../../core/cbor.js';
import { invalidValue } from '../../core/errors.js';
import { BLS_PUBLIC_KEY_BYTES, ED25519_PUBLIC_KEY_BYTES, HASH_BYTES } from '../../core/identity.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from '../../core/object.js';
import { MAX_RECORD_BYTES } from '../../core/state.js';
import { MAX_ENDPOINT_BYTES, MAX_SERVICE_NAME_BYTES } from '../../core/tx.js';
import type { ServiceRecord, ValidatorRecord } from './interface.js';

export interface ReviewRecord {
  readonly reviewer: Uint8Array;
  readonly serviceId: Uint8Array;
  /** 1..5 */
  readonly rating: number;
  /** Reviewer's stake in whole IOST when the review executed: the review's weight. */
  readonly weight: bigint;
  readonly commentHash: Uint8Array;
  readonly height: number;
  /** Whether the review was added to the provider's ValidatorRecord sums (the provider had one then). */
  readonly countedForValidator: boolean;
}

function decodeWith<T>(bytes: Uint8Array, name: string, read: (r: CborReader) => T): T {
  assertMaxSize(bytes, MAX_RECORD_BYTES, name);
  const r = new CborReader(bytes);
  const v = read(r);
  r.end(name);
  return v;
}

// ---- validator ----

export function encodeValidatorRecord(v: ValidatorRecord): Uint8Array {
  const w = new CborWriter(320);
  writeEnvelope(w, ObjectType.validatorRecord, 12);
  w.bytes(v.owner).bytes(v.validatorId).bytes(v.nodePublicKey).bytes(v.blsPublicKey).text(v.endpoint);
  w.uint(v.registeredHeight).bool(v.slashed).uint(v.servi).uint(v.done).uint(v.missed);
  w.uint(v.reviewScoreSum).uint(v.reviewStakeSum);
  return w.finish();
}

export function decodeValidatorRecord(bytes: Uint8Array): ValidatorRecord {
  return decodeWith(bytes, 'validator', (r) => {
    readEnvelope(r, ObjectType.validatorRecord, 12);
    const owner = r.bytesField('validator.owner', HASH_BYTES);
    const validatorId = r.bytesField('validator.validatorId', HASH_BYTES);
    const nodePublicKey = r.bytesField('validator.nodePublicKey', ED25519_PUBLIC_KEY_BYTES);
    const blsPublicKey = r.bytesField('validator.blsPublicKey', BLS_PUBLIC_KEY_BYTES);
    const endpoint = r.text('validator.endpoint', MAX_ENDPOINT_BYTES);
    const registeredHeight = r.uint('validator.registeredHeight');
    const slashed = r.bool('validator.slashed');
    const servi = r.uint('validator.servi');
    const done = r.uint('validator.done');
    const missed = r.uint('validator.missed');
    const reviewScoreSum = r.u64('validator.reviewScoreSum');
    const reviewStakeSum = r.u64('validator.reviewStakeSum');
    return {
      owner,
      validatorId,
      nodePublicKey,
      blsPublicKey,
      endpoint,
      registeredHeight,
      slashed,
      servi,
      done,
      missed,
      reviewScoreSum,
      reviewStakeSum,
    };
  });
}

// ---- service ----

export function encodeServiceRecord(s: ServiceRecord): Uint8Array {
  const w = new CborWriter(192);
  writeEnvelope(w, ObjectType.serviceRecord, 8);
  w.bytes(s.provider).text(s.name).uint(s.price).bytes(s.descriptionHash).uint(s.registeredHeight);
  w.uint(s.reviewCount).uint(s.reviewScoreSum).uint(s.reviewStakeSum);
  return w.finish();
}

export function decodeServiceRecord(bytes: Uint8Array): ServiceRecord {
  return decodeWith(bytes, 'service', (r) => {
    readEnvelope(r, ObjectType.serviceRecord, 8);
    const provider = r.bytesField('service.provider', HASH_BYTES);
    const name = r.text('service.name', MAX_SERVICE_NAME_BYTES);
    if (name.length === 0) invalidValue('service.name', 'must not be empty');
    const price = r.u64('service.price');
    const descriptionHash = r.bytesField('service.descriptionHash', HASH_BYTES);
    const registeredHeight = r.uint('service.registeredHeight');
    const reviewCount = r.uint('service.reviewCount');
    const reviewScoreSum = r.u64('service.reviewScoreSum');
    const reviewStakeSum = r.u64('service.reviewStakeSum');
    return {
      provider,
      name,
      price,
      descriptionHash,
      registeredHeight,
      reviewCount,
      reviewScoreSum,
      reviewStakeSum,
    };
  });
}

// ---- review ----

export function encodeReviewRecord(v: ReviewRecord): Uint8Array {
  const w = new CborWriter(160);
  writeEnvelope(w, ObjectType.reviewRecord, 7);
  w.bytes(v.reviewer).bytes(v.serviceId).uint(v.rating).uint(v.weight).bytes(v.commentHash);
  w.uint(v.height).bool(v.countedForValidator);
  return w.finish();
}

export function decodeReviewRecord(bytes: Uint8Array): ReviewRecord {
  return decodeWith(bytes, 'review', (r) => {
    readEnvelope(r, ObjectType.reviewRecord, 7);
    const reviewer = r.bytesField('review.reviewer', HASH_BYTES);
    const serviceId = r.bytesField('review.serviceId', HASH_BYTES);
    const rating = r.uint('review.rating', 5);
    if (rating < 1) invalidValue('review.rating', 'must be within 1..5');
    const weight = r.u64('review.weight');
    const commentHash = r.bytesField('review.commentHash', HASH_BYTES);
    const height = r.uint('review.height');
    const countedForValidator = r.bool('review.countedForValidator');
    return { reviewer, serviceId, rating, weight, commentHash, height, countedForValidator };
  });
}
