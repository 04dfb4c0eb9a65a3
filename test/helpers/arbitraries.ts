/**
 * fast-check arbitraries for structurally valid objects of every kind: every value the decoders accept,
 * with random (unsigned) signatures. For codec properties only: nothing here verifies cryptographically.
 */
import fc from 'fast-check';
import type { CrossShardPart, CrossShardTx, LockProof } from '../../core/atomix.js';
import type { Block } from '../../core/block.js';
import { compareBytes, utf8 } from '../../core/bytes.js';
import type { CollectiveSignature, Committee } from '../../core/committee.js';
import type { Genesis } from '../../core/genesis.js';
import type { BlockHeader, FinalityCertificate } from '../../core/header.js';
import type { SmtProof } from '../../core/smt.js';
import type {
  AccountState,
  AtomixLockRecord,
  DeviceRecord,
  FileRecord,
  LockStatusName,
} from '../../core/state.js';
import type { StateBlock } from '../../core/state-block.js';
import { AllocationBucket, type AllocationBucketName } from '../../core/token.js';
import { isSystemTx, type Transaction, type TxBody, type TxKindName, type TxPayload } from '../../core/tx.js';
import type { ObjectKind } from './objects.js';

const U64_MAX = (1n << 64n) - 1n;

export const bytesN = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
export const bytesUpTo = (max: number, min = 0) => fc.uint8Array({ minLength: min, maxLength: max });
export const hash32 = bytesN(32);
export const u64 = fc.bigInt({ min: 0n, max: U64_MAX });
export const positiveU64 = fc.bigInt({ min: 1n, max: U64_MAX });
export const safeUint = fc.oneof(
  fc.maxSafeNat(),
  fc.nat(1000),
  fc.constantFrom(23, 24, 255, 256, 2 ** 32, 2 ** 32 - 1),
);
export const u16 = fc.integer({ min: 0, max: 0xffff });

/** Text of at most maxBytes UTF-8 bytes (and at least one UTF-16 unit if nonEmpty). */
export function textUpTo(maxBytes: number, nonEmpty = false): fc.Arbitrary<string> {
  const min = nonEmpty ? 1 : 0;
  return fc
    .oneof(
      fc.string({ minLength: min, maxLength: maxBytes }),
      fc.string({ unit: 'binary', minLength: min, maxLength: Math.max(min, maxBytes >> 2) }),
    )
    .filter((s) => utf8(s).length <= maxBytes);
}

const chainId = textUpTo(32);

// ---- consensus objects ----

export const collectiveSignature: fc.Arbitrary<CollectiveSignature> = fc.record({
  signers: bytesUpTo(128, 1),
  signature: bytesN(96),
});

export const blockHeader: fc.Arbitrary<BlockHeader> = fc.record({
  chainId,
  shard: u16,
  height: safeUint,
  epoch: safeUint,
  view: fc.nat(0xffffffff),
  parent: hash32,
  txRoot: hash32,
  stateRoot: hash32,
  proposer: u16,
  time: safeUint,
  txCount: safeUint,
  lastCommit: hash32,
  proposerSignature: bytesN(96),
});

export const finalityCertificate: fc.Arbitrary<FinalityCertificate> = fc.record({
  blockId: hash32,
  shard: u16,
  height: safeUint,
  epoch: safeUint,
  view: fc.nat(0xffffffff),
  signature: collectiveSignature,
});

export const committee: fc.Arbitrary<Committee> = fc
  .uniqueArray(bytesN(48), { minLength: 1, maxLength: 20, comparator: (a, b) => compareBytes(a, b) === 0 })
  .chain((keys) =>
    fc.record({
      chainId,
      shard: u16,
      epoch: safeUint,
      leagueSize: fc.integer({ min: 1, max: keys.length }),
      members: fc
        .array(fc.integer({ min: 1, max: 2 ** 40 }), { minLength: keys.length, maxLength: keys.length })
        .map((ws) =>
          [...keys].sort(compareBytes).map((blsPublicKey, i) => ({ blsPublicKey, weight: ws[i]! })),
        ),
    }),
  );

export const stateBlock: fc.Arbitrary<StateBlock> = fc.tuple(safeUint, safeUint).chain(([a, b]) =>
  fc.record({
    chainId,
    shard: u16,
    epoch: safeUint,
    index: safeUint,
    fromHeight: fc.constant(Math.min(a, b)),
    toHeight: fc.constant(Math.max(a, b)),
    stateRoot: hash32,
    previous: hash32,
    committee: hash32,
    nextCommittee: hash32,
    signature: collectiveSignature,
  }),
);

// ---- state records ----

export const account: fc.Arbitrary<AccountState> = fc.record({
  balance: u64,
  nonce: safeUint,
  staked: u64,
  unbonding: u64,
  unbondingEpoch: safeUint,
  locked: u64,
});

export const deviceRecord: fc.Arbitrary<DeviceRecord> = fc.record({
  owner: hash32,
  devicePublicKey: bytesN(32),
  boardId: textUpTo(32, true),
  hardwareSerial: textUpTo(64),
  registeredHeight: safeUint,
});

export const fileRecord: fc.Arbitrary<FileRecord> = fc.record({
  owner: hash32,
  size: safeUint,
  chunkSize: fc.integer({ min: 1, max: 1 << 24 }),
  replication: fc.integer({ min: 1, max: 16 }),
  name: textUpTo(128),
  storedHeight: safeUint,
});

export const lockStatus = fc.constantFrom<LockStatusName>('accepted', 'rejected', 'committed', 'aborted');

export const atomixLockRecord: fc.Arbitrary<AtomixLockRecord> = fc.record({
  crossTxId: hash32,
  inputIndex: fc.integer({ min: 0, max: 255 }),
  status: lockStatus,
  amount: u64,
});

/** A well-shaped SMT proof (decodable; not a proof of anything). */
export const smtProof: fc.Arbitrary<SmtProof> = fc.array(fc.boolean(), { maxLength: 40 }).chain((bits) => {
  const bitmap = new Uint8Array((bits.length + 7) >> 3);
  bits.forEach((b, i) => {
    if (b) bitmap[i >> 3]! |= 0x80 >> (i & 7);
  });
  const set = bits.filter(Boolean).length;
  return fc.record({
    depth: fc.constant(bits.length),
    bitmap: fc.constant(bitmap),
    // A zero sibling is a second spelling of an empty one and is refused: force one bit on.
    siblings: bytesN(32 * set).map((s) => {
      for (let i = 0; i < s.length; i += 32) s[i]! |= 1;
      return s;
    }),
    leaf: fc.option(fc.record({ key: hash32, valueHash: hash32 }), { nil: null }),
  });
});

// ---- transactions ----

const part: fc.Arbitrary<CrossShardPart> = fc.record({
  address: hash32,
  amount: fc.bigInt({ min: 1n, max: 1n << 60n }),
});

export const crossShardTx: fc.Arbitrary<CrossShardTx> = fc
  .tuple(
    bytesN(16),
    fc.array(part, { minLength: 1, maxLength: 8 }),
    fc.array(hash32, { minLength: 1, maxLength: 8 }),
  )
  .map(([salt, inputs, outAddresses]) => {
    // Split the inputs' total over the outputs: every output positive, the sums equal.
    const total = inputs.reduce((s, p) => s + p.amount, 0n);
    const n = BigInt(Math.min(outAddresses.length, Number(total < 8n ? total : 8n)));
    const share = total / n;
    const outputs = outAddresses.slice(0, Number(n)).map((address, i) => ({
      address,
      amount: i === 0 ? total - share * (n - 1n) : share,
    }));
    return { salt, inputs, outputs };
  });

export const lockProof: fc.Arbitrary<LockProof> = fc.record({
  header: blockHeader,
  certificate: finalityCertificate,
  record: atomixLockRecord,
  proof: smtProof,
});

export function txPayload(kind: TxKindName): fc.Arbitrary<TxPayload> {
  switch (kind) {
    case 'transfer':
      return fc.record({ kind: fc.constant(kind), to: hash32, amount: u64, memo: bytesUpTo(64) });
    case 'stake':
    case 'unstake':
      return fc.record({ kind: fc.constant(kind), amount: positiveU64 });
    case 'registerValidator':
      return fc.record({
        kind: fc.constant(kind),
        blsPublicKey: bytesN(48),
        blsPop: bytesN(96),
        endpoint: textUpTo(128),
      });
    case 'registerDevice':
      return fc.record({
        kind: fc.constant(kind),
        devicePublicKey: bytesN(32),
        boardId: textUpTo(32, true),
        hardwareSerial: textUpTo(64),
      });
    case 'registerService':
      return fc.record({
        kind: fc.constant(kind),
        name: textUpTo(64, true),
        price: u64,
        descriptionHash: hash32,
      });
    case 'review':
      return fc.record({
        kind: fc.constant(kind),
        serviceId: hash32,
        rating: fc.integer({ min: 1, max: 5 }),
        commentHash: hash32,
      });
    case 'storeFile':
      return fc.record({
        kind: fc.constant(kind),
        fileRoot: hash32,
        size: safeUint,
        chunkSize: fc.integer({ min: 1, max: 1 << 24 }),
        replication: fc.integer({ min: 1, max: 16 }),
        name: textUpTo(128),
      });
    case 'evidence':
      return fc.record({
        kind: fc.constant(kind),
        evidenceKind: fc.integer({ min: 1, max: 3 }),
        first: bytesUpTo(300, 1),
        second: bytesUpTo(300, 1),
      });
    case 'dkgDeal':
      return fc.record({ kind: fc.constant(kind), epoch: safeUint, dealing: bytesUpTo(600, 1) });
    case 'dkgComplaint':
      return fc.record({ kind: fc.constant(kind), epoch: safeUint, complaint: bytesUpTo(200, 1) });
    case 'beacon':
      return fc.record({ kind: fc.constant(kind), epoch: safeUint, signature: bytesN(96) });
    case 'atomixLock':
      return crossShardTx.chain((crossTx) =>
        fc.record({
          kind: fc.constant(kind),
          crossTx: fc.constant(crossTx),
          inputIndex: fc.nat(crossTx.inputs.length - 1),
        }),
      );
    case 'atomixCommit':
      return crossShardTx.chain((crossTx) =>
        fc.record({
          kind: fc.constant(kind),
          crossTx: fc.constant(crossTx),
          acceptances: fc.array(lockProof, {
            minLength: crossTx.inputs.length,
            maxLength: crossTx.inputs.length,
          }),
        }),
      );
    case 'atomixAbort':
      return fc.record({ kind: fc.constant(kind), crossTx: crossShardTx, rejection: lockProof });
  }
}

export function txBody(kind: TxKindName): fc.Arbitrary<TxBody> {
  // System transactions carry nonce 0 and fee 0 (core/tx.ts SYSTEM_TX_KINDS).
  const system = isSystemTx(kind);
  return fc.record({
    chainId,
    sender: bytesN(32),
    nonce: system ? fc.constant(0) : safeUint,
    expiry: safeUint,
    fee: system ? fc.constant(0n) : u64,
    payload: txPayload(kind),
  });
}

export function transaction(kind: TxKindName): fc.Arbitrary<Transaction> {
  return txBody(kind).chain((body) =>
    fc.record({
      body: fc.constant(body),
      signatures: fc.array(bytesN(64), {
        minLength: kind === 'registerDevice' ? 2 : 1,
        maxLength: kind === 'registerDevice' ? 2 : 1,
      }),
    }),
  );
}

const TX_KIND_NAMES: TxKindName[] = [
  'transfer',
  'stake',
  'unstake',
  'registerValidator',
  'registerDevice',
  'registerService',
  'review',
  'storeFile',
  'atomixLock',
  'atomixCommit',
  'atomixAbort',
  'evidence',
];
export const anyTransaction: fc.Arbitrary<Transaction> = fc.constantFrom(...TX_KIND_NAMES).chain(transaction);

export const block: fc.Arbitrary<Block> = fc
  .tuple(
    blockHeader,
    fc.array(anyTransaction, { maxLength: 3 }),
    fc.option(finalityCertificate, { nil: null }),
  )
  .map(([header, txs, lastCommit]) => ({ header: { ...header, txCount: txs.length }, txs, lastCommit }));

// ---- genesis ----

const bucket = fc.constantFrom(...(Object.keys(AllocationBucket) as AllocationBucketName[]));

export const genesis: fc.Arbitrary<Genesis> = fc.record({
  chainId,
  time: safeUint,
  shardCount: fc.integer({ min: 0, max: 1024 }),
  params: fc.record({
    blockIntervalMs: safeUint,
    stateBlockInterval: safeUint,
    epochLength: safeUint,
    committeeSize: fc.integer({ min: 0, max: 1024 }),
    leagueSize: fc.integer({ min: 0, max: 1024 }),
    minValidatorStake: u64,
    unbondingEpochs: safeUint,
    maxBlockTxs: safeUint,
  }),
  allocations: fc
    .uniqueArray(hash32, { minLength: 1, maxLength: 10, comparator: (a, b) => compareBytes(a, b) === 0 })
    .chain((addresses) =>
      fc.tuple(
        ...[...addresses]
          .sort(compareBytes)
          .map((address) => fc.record({ bucket, address: fc.constant(address), liquid: u64, staked: u64 })),
      ),
    ),
  validators: fc
    .uniqueArray(bytesN(32), { minLength: 1, maxLength: 5, comparator: (a, b) => compareBytes(a, b) === 0 })
    .chain((keys) =>
      fc.tuple(
        ...[...keys].sort(compareBytes).map((nodePublicKey) =>
          fc.record({
            nodePublicKey: fc.constant(nodePublicKey),
            blsPublicKey: bytesN(48),
            blsPop: bytesN(96),
            endpoint: textUpTo(128),
          }),
        ),
      ),
    ),
});

/** One arbitrary per object kind (values the kind's decoder accepts). */
export const OBJECT_ARBITRARIES: Readonly<Record<ObjectKind, fc.Arbitrary<unknown>>> = {
  tx: anyTransaction,
  header: blockHeader,
  block,
  finalityCertificate,
  committee,
  stateBlock,
  account,
  deviceRecord,
  fileRecord,
  atomixLockRecord,
  genesis,
};
