/**
 * makeTx(kind, overrides): a correctly signed transaction of any TxKind, from deterministic keys.
 * Defaults are realistic (amounts in IOST units, a real BLS proof of possession, real lock proofs), so the
 * same fixtures serve codec tests, state-machine tests and vectors.
 */
import { utf8 } from '../../core/bytes.js';
import { encodeBlockHeader } from '../../core/header.js';
import { IOST_UNIT } from '../../core/token.js';
import {
  EvidenceKind,
  encodeTx,
  isSystemTx,
  signTx,
  type Transaction,
  type TxBody,
  TxKind,
  type TxKindName,
  type TxPayload,
} from '../../core/tx.js';
import { makeCrossShardTx, makeLockProof } from './atomix.js';
import { fakeHash, makeCommittee, makeHeader, TEST_CHAIN_ID, TEST_TIME } from './chain.js';
import { testCrypto } from './crypto.js';
import { blsKey, blsPop, blsSign, type Ed25519TestKey, ed25519Key } from './keys.js';

export const TX_KINDS = Object.keys(TxKind) as TxKindName[];

export type PayloadOf<K extends TxKindName> = Extract<TxPayload, { kind: K }>;

export interface TxOverrides<K extends TxKindName> {
  readonly chainId?: string;
  readonly nonce?: number;
  readonly expiry?: number;
  readonly fee?: bigint;
  /** Default ed25519Key('alice'). */
  readonly sender?: Ed25519TestKey;
  /** register-device only: the device's key. Default ed25519Key('device/rpi4-0001'). */
  readonly device?: Ed25519TestKey;
  readonly payload?: Partial<Omit<PayloadOf<K>, 'kind'>>;
  /** Sign with these keys instead of txSigners' (to build must-reject fixtures). */
  readonly signWith?: readonly Ed25519TestKey[];
}

export interface TestTx<K extends TxKindName = TxKindName> {
  readonly tx: Transaction;
  readonly id: Uint8Array;
  readonly bytes: Uint8Array;
  readonly payload: PayloadOf<K>;
  readonly signers: readonly Ed25519TestKey[];
}

function defaultPayload(kind: TxKindName, device: Ed25519TestKey): TxPayload {
  switch (kind) {
    case 'transfer':
      return { kind, to: ed25519Key('bob').address, amount: 12_345n * IOST_UNIT, memo: utf8('invoice 42') };
    case 'stake':
      return { kind, amount: 1_000_000n * IOST_UNIT };
    case 'unstake':
      return { kind, amount: 250_000n * IOST_UNIT };
    case 'registerValidator': {
      const bls = blsKey('validator/alice');
      return { kind, blsPublicKey: bls.publicKey, blsPop: blsPop(bls), endpoint: '10.0.0.1:7400' };
    }
    case 'registerDevice':
      return { kind, devicePublicKey: device.publicKey, boardId: 'rpi4', hardwareSerial: '10000000abcdef01' };
    case 'registerService':
      return {
        kind,
        name: 'weather-feed',
        price: IOST_UNIT / 100n,
        descriptionHash: fakeHash('service-description'),
      };
    case 'review':
      return {
        kind,
        serviceId: fakeHash('service/weather-feed'),
        rating: 4,
        commentHash: fakeHash('comment'),
      };
    case 'storeFile':
      return {
        kind,
        fileRoot: fakeHash('file/firmware.bin'),
        size: 1_048_576,
        chunkSize: 262_144,
        replication: 3,
        name: 'firmware.bin',
      };
    case 'evidence': {
      // Proposal equivocation: one proposer signed two different headers at the same height and view.
      const tc = makeCommittee();
      const a = makeHeader(tc, { txRoot: fakeHash('txRoot/a'), txCount: 1 }).header;
      const b = makeHeader(tc, { txRoot: fakeHash('txRoot/b'), txCount: 1 }).header;
      return {
        kind,
        evidenceKind: EvidenceKind.proposalEquivocation,
        first: encodeBlockHeader(a),
        second: encodeBlockHeader(b),
      };
    }
    case 'atomixLock':
      return { kind, crossTx: makeCrossShardTx(), inputIndex: 0 };
    case 'atomixCommit': {
      const crossTx = makeCrossShardTx();
      return {
        kind,
        crossTx,
        acceptances: crossTx.inputs.map((_, i) => makeLockProof(crossTx, i, 'accepted')),
      };
    }
    case 'atomixAbort': {
      const crossTx = makeCrossShardTx();
      return { kind, crossTx, rejection: makeLockProof(crossTx, 1, 'rejected') };
    }
    // Core treats DKG bodies as opaque bytes (their format belongs to the beacon module).
    case 'dkgDeal':
      return { kind, epoch: 3, dealing: fakeHash('dealing') };
    case 'dkgComplaint':
      return { kind, epoch: 3, complaint: fakeHash('complaint') };
    case 'beacon':
      return { kind, epoch: 3, signature: blsSign(blsKey('beacon'), fakeHash('beacon message')) };
  }
}

export function makeTxBody<K extends TxKindName>(kind: K, overrides: TxOverrides<K> = {}): TxBody {
  const sender = overrides.sender ?? ed25519Key('alice');
  const device = overrides.device ?? ed25519Key('device/rpi4-0001');
  const payload = { ...defaultPayload(kind, device), ...overrides.payload, kind } as TxPayload;
  return {
    chainId: overrides.chainId ?? TEST_CHAIN_ID,
    sender: sender.publicKey,
    // System transactions carry nonce 0 and fee 0 (core/tx.ts SYSTEM_TX_KINDS).
    nonce: overrides.nonce ?? (isSystemTx(kind) ? 0 : 7),
    expiry: overrides.expiry ?? TEST_TIME + 3_600_000,
    fee: overrides.fee ?? (isSystemTx(kind) ? 0n : 10_000n),
    payload,
  };
}

const cache = new Map<string, unknown>();

/** A signed transaction of `kind`; memoized for calls without overrides (BLS-heavy kinds cost ~0.5 s). */
export function makeTx<K extends TxKindName>(kind: K, overrides?: TxOverrides<K>): TestTx<K> {
  if (!overrides) {
    const hit = cache.get(kind);
    if (hit) return hit as TestTx<K>;
  }
  const o = overrides ?? {};
  const sender = o.sender ?? ed25519Key('alice');
  const device = o.device ?? ed25519Key('device/rpi4-0001');
  const body = makeTxBody(kind, o);
  const signers = o.signWith ?? (kind === 'registerDevice' ? [sender, device] : [sender]);
  const { tx, id } = signTx(
    testCrypto,
    body,
    signers.map((k) => k.secretKey),
  );
  const made: TestTx<K> = { tx, id, bytes: encodeTx(tx), payload: body.payload as PayloadOf<K>, signers };
  if (!overrides) cache.set(kind, made);
  return made;
}
