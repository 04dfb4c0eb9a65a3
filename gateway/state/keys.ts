/**
 * Where records live: namespace numbers (core's plus ConsensusNamespaces) and the ids derived from
 * transactions. Every key is H("iosnet/state-key/v1", u8(namespace) || id), core's derivation, so one
 * proof format covers every namespace.
 */
import { concatBytes, utf8 } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { DomainTag, taggedHash } from '../../core/hash.js';
import { StateNamespace, type StateNamespaceName } from '../../core/state.js';
import { type ConsensusNamespace, ConsensusNamespaces } from './interface.js';

export type NamespaceName = StateNamespaceName | ConsensusNamespace;

/** Tag of the service id; to be listed in core's DomainTag registry (docs/state-records.md). */

export function namespaceNumber(name: NamespaceName): number {
  const n =
    (StateNamespace as Record<string, number>)[name] ?? (ConsensusNamespaces as Record<string, number>)[name];
  if (n === undefined) throw new RangeError(`unknown state namespace ${name}`);
  return n;
}

/** H("iosnet/state-key/v1", u8(namespace) || id) for any namespace number. */
export function stateKeyOf(crypto: Crypto, namespace: number, id: Uint8Array): Uint8Array {
  return taggedHash(crypto, DomainTag.stateKey, Uint8Array.of(namespace), id);
}

/** serviceId = H("iosnet/service-id/v1", providerAddress || utf8(name)): names are per provider. */
export function serviceIdOf(crypto: Crypto, provider: Uint8Array, name: string): Uint8Array {
  return taggedHash(crypto, DomainTag.serviceId, provider, utf8(name));
}

/**
 * Review id = reviewer address || serviceId (64 bytes). No hash: the state key hashes it anyway, and a
 * StateProof id may be up to 64 bytes, so a light client can ask for "my review of this service".
 */
export function reviewIdOf(reviewer: Uint8Array, serviceId: Uint8Array): Uint8Array {
  return concatBytes(reviewer, serviceId);
}
