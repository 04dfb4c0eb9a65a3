/**
 * Domain-separated sha256: H(tag, data) = sha256( u8(len(tag)) || utf8(tag) || data ).
 * Every object kind hashes under its own tag, so bytes valid as one kind can never be replayed as the id
 * or signature message of another. The registry below is the complete list (docs/protocol.md §Hashing).
 */
import { utf8 } from './bytes.js';
import type { Crypto } from './crypto.js';

export const DomainTag = {
  tx: 'iosnet/tx/v1',
  blockHeader: 'iosnet/block/v1',
  stateBlock: 'iosnet/state-block/v1',
  committee: 'iosnet/committee/v1',
  genesis: 'iosnet/genesis/v1',
  address: 'iosnet/address/v1',
  deviceIdentity: 'iosnet/device-id/v1',
  validatorId: 'iosnet/validator-id/v1',
  blsPop: 'iosnet/bls-pop/v1',
  merkleLeaf: 'iosnet/merkle-leaf/v1',
  merkleNode: 'iosnet/merkle-node/v1',
  smtLeaf: 'iosnet/smt-leaf/v1',
  smtNode: 'iosnet/smt-node/v1',
  stateKey: 'iosnet/state-key/v1',
  stateValue: 'iosnet/state-value/v1',
  atomix: 'iosnet/atomix/v1',
  vote: 'iosnet/vote/v1',
  certificate: 'iosnet/certificate/v1',
  proposal: 'iosnet/proposal/v1',
  nil: 'iosnet/nil/v1',
  seed: 'iosnet/seed/v1',
  beacon: 'iosnet/beacon/v1',
  sample: 'iosnet/sample/v1',
  proposer: 'iosnet/proposer/v1',
  serviceId: 'iosnet/service-id/v1',
  handshake: 'iosnet/handshake/v1',
  dkgPok: 'iosnet/dkg-pok/v1',
  dkgDleq: 'iosnet/dkg-dleq/v1',
  dkgShare: 'iosnet/dkg-share/v1',
  dkgDealing: 'iosnet/dkg-dealing/v1',
  dkgCoefficients: 'iosnet/dkg-coefficients/v1',
  dkgNonce: 'iosnet/dkg-nonce/v1',
  dkgBatch: 'iosnet/dkg-batch/v1',
  deviceAuth: 'iosnet/device-auth/v1',
  deviceImage: 'iosnet/device-image/v1',
} as const;

export type DomainTagName = keyof typeof DomainTag;

const prefixes = new Map<string, Uint8Array>();

/** u8(len) || utf8(tag), computed once per tag. */
export function tagPrefix(tag: string): Uint8Array {
  let p = prefixes.get(tag);
  if (!p) {
    const t = utf8(tag);
    if (t.length > 255) throw new RangeError('domain tag longer than 255 bytes');
    p = new Uint8Array(1 + t.length);
    p[0] = t.length;
    p.set(t, 1);
    prefixes.set(tag, p);
  }
  return p;
}

export function taggedHash(crypto: Crypto, tag: string, ...data: Uint8Array[]): Uint8Array {
  return crypto.sha256(tagPrefix(tag), ...data);
}
