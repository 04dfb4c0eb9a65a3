/**
 * The crypto a core function needs, behind one small interface so that device images ship the
 * portable (noble) backend and gateways plug in native speed (node:crypto, @chainsafe/blst).
 * Both backends must agree on every input: test/unit/core/crypto-backends.test.ts checks it.
 *
 * Ed25519: RFC 8032 (pure Ed25519), 32-byte seeds as secret keys, strict verification (canonical
 * encodings, S < L, small-order public keys refused, cofactorless equation; the rule and its evidence are in
gateway/crypto/native.ts and test/vectors/ed25519/edge-cases.json), because a consensus rule must not depend
on which backend a node runs. sign/getPublicKey throw ArgumentError on malformed keys; verify never throws.
 * BLS12-381: the "minimal-pubkey-size" variant (48-byte G1 public keys, 96-byte G2 signatures) with the
 * proof-of-possession ciphersuite BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_ (draft-irtf-cfrg-bls-signature-05
 * §4.2.3), the one @chainsafe/blst implements. Rogue-key attacks on same-message aggregation are prevented by a
 * proof of possession checked when a validator registers (see `blsPopMessage` in identity.ts).
 */

/** A parsed, subgroup-checked BLS public key; opaque, owned by the backend that made it. */
export interface BlsPublicKey {
  readonly bytes: Uint8Array;
}

export interface Ed25519Backend {
  /** 32-byte public key of a 32-byte seed. */
  getPublicKey(secretKey: Uint8Array): Uint8Array;
  /** 64-byte signature. */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** False (never throws) for any malformed signature or key. */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

export interface BlsBackend {
  /** 48-byte compressed G1 public key of a 32-byte secret key (must be a valid scalar, nonzero, < r). */
  getPublicKey(secretKey: Uint8Array): Uint8Array;
  /** 96-byte compressed G2 signature. */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** Parses and subgroup-checks a 48-byte key; undefined if invalid or the identity point. */
  parsePublicKey(bytes: Uint8Array): BlsPublicKey | undefined;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: BlsPublicKey): boolean;
  /** Aggregates 96-byte signatures (each subgroup-checked); undefined if any is invalid. */
  aggregateSignatures(signatures: readonly Uint8Array[]): Uint8Array | undefined;
  /** FastAggregateVerify: one message, many signers, one aggregate signature. False on any malformed input. */
  verifyAggregate(signature: Uint8Array, message: Uint8Array, publicKeys: readonly BlsPublicKey[]): boolean;
}

export interface Crypto {
  /** 'portable' (noble, pure JS) or 'native' (node:crypto + blst). */
  readonly name: string;
  sha256(...parts: Uint8Array[]): Uint8Array;
  readonly ed25519: Ed25519Backend;
  readonly bls: BlsBackend;
  /** Cryptographically secure random bytes (injected: Node 18 has no global WebCrypto). */
  randomBytes(length: number): Uint8Array;
}
