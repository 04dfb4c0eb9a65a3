/**
 * Must-reject inputs per object kind (beyond the generic ones in byte-surgery.ts) for
 * test/vectors/objects/*.json; each names the error it must produce, which the generator checks.
 */
import { encodeBlock } from '../../core/block.js';
import { concatBytes } from '../../core/bytes.js';
import { encodeCbor } from '../../core/cbor.js';
import { type Committee, encodeCommittee, makeBitmap } from '../../core/committee.js';
import { encodeGenesis, type Genesis } from '../../core/genesis.js';
import { encodeBlockHeader, encodeFinalityCertificate, VotePhase, voteMessage } from '../../core/header.js';
import {
  encodeAccount,
  encodeAtomixLockRecord,
  encodeDeviceRecord,
  encodeFileRecord,
} from '../../core/state.js';
import { encodeStateBlock } from '../../core/state-block.js';
import { AllocationBucket } from '../../core/token.js';
import type { Transaction, TxKindName } from '../../core/tx.js';
import {
  cborHex,
  cborxDeterministic,
  flipBit,
  hex,
  patch,
  type RejectSpec,
  viaCborx,
  zeros,
} from './byte-surgery.js';
import {
  makeBlock,
  makeCommittee,
  makeFinalityCertificate,
  makeHeader,
  makeStateBlock,
  signCollective,
} from './chain.js';
import { testCrypto } from './crypto.js';
import { validObjectCases } from './object-fixtures.js';
import type { ObjectKind } from './objects.js';
import { makeTx, type TxOverrides } from './tx.js';
import { txRejects } from './tx-rejects.js';

function tx<K extends TxKindName>(kind: K, o?: TxOverrides<K>): Transaction {
  return makeTx(kind, o).tx;
}

function headerRejects(): RejectSpec[] {
  const tc = makeCommittee();
  const { header } = makeHeader(tc);
  const enc = (o: Partial<typeof header>) => encodeBlockHeader({ ...header, ...o });
  const bytes = encodeBlockHeader(header);
  // height, then epoch and view, then the parent: unique in the header.
  const league = [...tc.prepared.league];
  const otherLeader = league.find((i) => i !== header.proposer)!;
  const outsider = [0, 1, 2, 3].find((i) => !tc.prepared.league.has(i))!;
  const afterHeight = `${cborHex(header.epoch)}${cborHex(header.view)}5820${hex(header.parent)}`;
  const heightAt = `${cborHex(header.height)}${afterHeight}`;
  return [
    { name: 'parent of 31 bytes', bytes: enc({ parent: zeros(31) }), error: 'DECODE_INVALID_LENGTH' },
    { name: 'parent of 33 bytes', bytes: enc({ parent: zeros(33) }), error: 'DECODE_INVALID_LENGTH' },
    { name: 'stateRoot of 33 bytes', bytes: enc({ stateRoot: zeros(33) }), error: 'DECODE_INVALID_LENGTH' },
    {
      name: 'proposerSignature of 95 bytes',
      bytes: enc({ proposerSignature: header.proposerSignature.subarray(0, 95) }),
      error: 'DECODE_INVALID_LENGTH',
    },
    { name: 'shard 65536', bytes: enc({ shard: 65536 }), error: 'DECODE_INT_RANGE' },
    { name: 'proposer 65536', bytes: enc({ proposer: 65536 }), error: 'DECODE_INT_RANGE' },
    {
      name: 'height 2^53',
      bytes: patch(bytes, heightAt, `1b0020000000000000${afterHeight}`),
      error: 'DECODE_INT_RANGE',
    },
    { name: 'chainId of 33 bytes', bytes: enc({ chainId: 'c'.repeat(33) }), error: 'DECODE_OVERSIZE' },
    {
      name: 'non-canonical: height 100 widened to 0x19 0x0064',
      bytes: patch(bytes, heightAt, `190064${afterHeight}`),
      error: 'DECODE_NON_CANONICAL',
    },
    {
      name: 'bad proposer signature: one bit flipped',
      bytes: enc({ proposerSignature: flipBit(header.proposerSignature, 50) }),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
    {
      name: "proposer field names the other league member (signature is the first one's)",
      bytes: enc({ proposer: otherLeader }),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
    {
      name: 'correctly signed by a member outside the league',
      bytes: encodeBlockHeader(makeHeader(tc, { proposer: outsider }).header),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
      note: 'Grade 1 needs a league member (the leagueSize heaviest members) as proposer.',
    },
    {
      name: 'proposer index 9 in a committee of 4',
      bytes: enc({ proposer: 9 }),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
    {
      name: 'signed header of another chain',
      bytes: encodeBlockHeader(makeHeader(tc, { chainId: 'iosnet-other' }).header),
      stage: 'verify',
      error: 'VERIFY_WRONG_CHAIN',
    },
    {
      name: 'signed header of shard 1 checked with the shard-0 committee',
      bytes: encodeBlockHeader(makeHeader(tc, { shard: 1 }).header),
      stage: 'verify',
      error: 'VERIFY_WRONG_SHARD',
    },
    {
      name: 'signed header of epoch 2 checked with the epoch-1 committee',
      bytes: encodeBlockHeader(makeHeader(tc, { epoch: 2 }).header),
      stage: 'verify',
      error: 'VERIFY_COMMITTEE_MISMATCH',
    },
    {
      name: 'cbor-x "deterministic" options: time (> 2^32) written as float64',
      bytes: viaCborx(bytes, cborxDeterministic),
      error: 'DECODE_UNSUPPORTED',
    },
  ];
}

function blockRejects(): RejectSpec[] {
  const tc = makeCommittee();
  const txs = [tx('transfer'), tx('stake'), tx('registerDevice')];
  const { block } = makeBlock(tc, txs);
  const bytes = encodeBlock(block);
  const short = makeBlock(tc, txs, { txCount: 2 }).block;
  const badSig = { ...txs[1]!, signatures: [flipBit(txs[1]!.signatures[0]!, 3)] };
  return [
    {
      name: 'header says 2 transactions, body has 3',
      bytes: encodeBlock(short),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'second transaction with version 2',
      bytes: patch(bytes, hex(makeTx('stake').bytes), `840201${hex(makeTx('stake').bytes).slice(6)}`),
      error: 'DECODE_UNKNOWN_VERSION',
    },
    {
      name: 'a finality certificate where the header belongs',
      bytes: concatBytes(
        Uint8Array.of(0x84, 0x01, 0x03),
        encodeFinalityCertificate(makeFinalityCertificate(tc, block.header)),
        encodeCbor([]),
      ),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'transactions reordered (txRoot no longer matches)',
      bytes: encodeBlock({ header: block.header, txs: [txs[1]!, txs[0]!, txs[2]!], lastCommit: null }),
      stage: 'verify',
      error: 'VERIFY_ROOT_MISMATCH',
    },
    {
      name: 'a transaction with a bad signature under a correct txRoot',
      bytes: encodeBlock(makeBlock(tc, [txs[0]!, badSig, txs[2]!]).block),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
  ];
}

function certificateRejects(): RejectSpec[] {
  const tc = makeCommittee();
  const { header, blockId } = makeHeader(tc);
  const cert = makeFinalityCertificate(tc, header);
  const enc = (o: Partial<typeof cert>) => encodeFinalityCertificate({ ...cert, ...o });
  const sig = (o: Partial<typeof cert.signature>) => enc({ signature: { ...cert.signature, ...o } });
  const padding = cert.signature.signers.slice();
  padding[0]! |= 0x01;
  return [
    { name: 'blockId of 31 bytes', bytes: enc({ blockId: zeros(31) }), error: 'DECODE_INVALID_LENGTH' },
    { name: 'blockId of 33 bytes', bytes: enc({ blockId: zeros(33) }), error: 'DECODE_INVALID_LENGTH' },
    {
      name: 'aggregate signature of 95 bytes',
      bytes: sig({ signature: cert.signature.signature.subarray(0, 95) }),
      error: 'DECODE_INVALID_LENGTH',
    },
    { name: 'empty signer bitmap', bytes: sig({ signers: zeros(0) }), error: 'DECODE_INVALID_LENGTH' },
    { name: 'signer bitmap of 129 bytes', bytes: sig({ signers: zeros(129) }), error: 'DECODE_OVERSIZE' },
    { name: 'shard 65536', bytes: enc({ shard: 65536 }), error: 'DECODE_INT_RANGE' },
    {
      name: 'one signer of weight 40 out of 100',
      bytes: enc({
        signature: signCollective(tc, voteMessage(testCrypto, VotePhase.commit, 0, blockId), [
          tc.committee.members.findIndex((m) => m.weight === 40),
        ]),
      }),
      stage: 'verify',
      error: 'VERIFY_INSUFFICIENT_WEIGHT',
    },
    {
      name: 'another height under the same signature',
      bytes: enc({ height: cert.height + 1 }),
      stage: 'verify',
      error: 'VERIFY_INVALID_FIELD',
      note: 'The committee signs only H(vote, 0x02 || blockId): shard, height and epoch must be compared with the header (verifyFinalityCertificate does).',
    },
    {
      name: 'a valid certificate of another block',
      bytes: encodeFinalityCertificate(makeFinalityCertificate(tc, makeHeader(tc, { height: 101 }).header)),
      stage: 'verify',
      error: 'VERIFY_INVALID_FIELD',
    },
    {
      name: 'padding bit set in the signer bitmap',
      bytes: sig({ signers: padding }),
      stage: 'verify',
      error: 'VERIFY_BITMAP_MISMATCH',
    },
    {
      name: 'signer bitmap of 2 bytes for 4 members',
      bytes: sig({ signers: concatBytes(cert.signature.signers, zeros(1)) }),
      stage: 'verify',
      error: 'VERIFY_BITMAP_MISMATCH',
    },
    {
      name: 'aggregate with one bit flipped',
      bytes: sig({ signature: flipBit(cert.signature.signature, 60) }),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
    {
      name: 'signed the prepare vote, not the commit vote',
      bytes: sig(signCollective(tc, voteMessage(testCrypto, VotePhase.prepare, 0, blockId), [0, 1, 2, 3])),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
    {
      name: 'bitmap claims a member who did not sign',
      bytes: sig({ signers: makeBitmap(4, [0, 1, 2, 3]) }),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
  ];
}

function committeeRejects(): RejectSpec[] {
  const c = makeCommittee().committee;
  // encodeCommittee writes whatever it is given, so invalid committees are built from valid parts.
  const enc = (o: Partial<Committee>) => encodeCommittee({ ...c, ...o });
  const m = c.members;
  return [
    { name: 'leagueSize 0', bytes: enc({ leagueSize: 0 }), error: 'DECODE_INVALID_VALUE' },
    { name: 'leagueSize 5 with 4 members', bytes: enc({ leagueSize: 5 }), error: 'DECODE_INVALID_VALUE' },
    {
      name: 'members out of order',
      bytes: enc({ members: [m[1]!, m[0]!, m[2]!, m[3]!] }),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'a member listed twice',
      bytes: enc({ members: [m[0]!, m[1]!, m[1]!, m[2]!] }),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'member weight 0',
      bytes: enc({ members: [m[0]!, { ...m[1]!, weight: 0 }, m[2]!, m[3]!] }),
      error: 'DECODE_INVALID_VALUE',
    },
    { name: 'no members', bytes: enc({ members: [], leagueSize: 1 }), error: 'DECODE_INVALID_LENGTH' },
    {
      name: 'BLS key of 47 bytes',
      bytes: enc({
        members: [{ ...m[0]!, blsPublicKey: m[0]!.blsPublicKey.subarray(0, 47) }, m[1]!],
        leagueSize: 1,
      }),
      error: 'DECODE_INVALID_LENGTH',
    },
    { name: 'shard 65536', bytes: enc({ shard: 65536 }), error: 'DECODE_INT_RANGE' },
    {
      name: 'total weight 2^53 (over the safe-integer bound)',
      bytes: enc({
        members: [
          { ...m[0]!, weight: 2 ** 52 },
          { ...m[1]!, weight: 2 ** 52 },
        ],
        leagueSize: 1,
      }),
      error: 'DECODE_INVALID_VALUE',
    },
  ];
}

function stateBlockRejects(): RejectSpec[] {
  const tc = makeCommittee();
  const { stateBlock: sb, id } = makeStateBlock(tc);
  const enc = (o: Partial<typeof sb>) => encodeStateBlock({ ...sb, ...o });
  const stranger = makeCommittee({ label: 'committee/stranger' });
  const next = makeCommittee({ epoch: 2, label: 'committee/0/epoch2' });
  return [
    {
      name: 'toHeight below fromHeight',
      bytes: enc({ fromHeight: 16, toHeight: 15 }),
      error: 'DECODE_INVALID_VALUE',
    },
    { name: 'stateRoot of 33 bytes', bytes: enc({ stateRoot: zeros(33) }), error: 'DECODE_INVALID_LENGTH' },
    { name: 'previous of 31 bytes', bytes: enc({ previous: zeros(31) }), error: 'DECODE_INVALID_LENGTH' },
    {
      name: 'nextCommittee of 33 bytes',
      bytes: enc({ nextCommittee: zeros(33) }),
      error: 'DECODE_INVALID_LENGTH',
    },
    { name: 'shard 65536', bytes: enc({ shard: 65536 }), error: 'DECODE_INT_RANGE' },
    {
      name: 'signed by the keys of another committee',
      bytes: enc({ signature: signCollective(stranger, id, [0, 1, 2]) }),
      stage: 'verify',
      error: 'VERIFY_BAD_SIGNATURE',
    },
    {
      name: 'signed state block of another chain',
      bytes: encodeStateBlock(makeStateBlock(tc, { chainId: 'iosnet-other' }).stateBlock),
      stage: 'verify',
      error: 'VERIFY_WRONG_CHAIN',
    },
    {
      name: 'signed state block of epoch 2 checked with the epoch-1 committee',
      bytes: encodeStateBlock(makeStateBlock(tc, { epoch: 2 }).stateBlock),
      stage: 'verify',
      error: 'VERIFY_COMMITTEE_MISMATCH',
    },
    {
      name: 'names another committee than its signers',
      bytes: encodeStateBlock(makeStateBlock(tc, { committee: next.hash }).stateBlock),
      stage: 'verify',
      error: 'VERIFY_COMMITTEE_MISMATCH',
    },
    {
      name: 'signed by less than 2/3 of the weight',
      bytes: enc({
        signature: signCollective(tc, id, [
          tc.committee.members.findIndex((m) => m.weight === 40),
          tc.committee.members.findIndex((m) => m.weight === 10),
        ]),
      }),
      stage: 'verify',
      error: 'VERIFY_INSUFFICIENT_WEIGHT',
    },
  ];
}

function accountRejects(): RejectSpec[] {
  const a = { balance: 5n, nonce: 3, staked: 0n, unbonding: 0n, unbondingEpoch: 0, locked: 0n };
  const bytes = encodeAccount(a);
  return [
    {
      name: 'balance as a negative integer',
      bytes: patch(bytes, '8801080503', '8801082503'),
      error: 'DECODE_UNSUPPORTED',
    },
    {
      name: 'balance 2^64 as a bignum (tag 2)',
      bytes: patch(bytes, '8801080503', '880108c24901000000000000000003'),
      error: 'DECODE_UNSUPPORTED',
    },
    {
      name: 'nonce as a half float',
      bytes: patch(bytes, '8801080503', '88010805f94200'),
      error: 'DECODE_UNSUPPORTED',
    },
    {
      name: 'nonce 2^53',
      bytes: patch(bytes, '8801080503', '880108051b0020000000000000'),
      error: 'DECODE_INT_RANGE',
    },
    {
      name: 'balance as a byte string',
      bytes: patch(bytes, '8801080503', '880108410503'),
      error: 'DECODE_UNEXPECTED_TYPE',
    },
    {
      name: 'non-canonical: balance 5 written as 0x1a00000005',
      bytes: patch(bytes, '8801080503', '8801081a0000000503'),
      error: 'DECODE_NON_CANONICAL',
    },
  ];
}

function deviceRejects(): RejectSpec[] {
  const d = validObjectCases().deviceRecord[0]!.value as Parameters<typeof encodeDeviceRecord>[0];
  const enc = (o: Partial<typeof d>) => encodeDeviceRecord({ ...d, ...o });
  return [
    { name: 'owner of 31 bytes', bytes: enc({ owner: zeros(31) }), error: 'DECODE_INVALID_LENGTH' },
    {
      name: 'devicePublicKey of 33 bytes',
      bytes: enc({ devicePublicKey: zeros(33) }),
      error: 'DECODE_INVALID_LENGTH',
    },
    { name: 'boardId of 33 bytes', bytes: enc({ boardId: 'b'.repeat(33) }), error: 'DECODE_OVERSIZE' },
    {
      name: 'hardwareSerial of 65 bytes',
      bytes: enc({ hardwareSerial: 's'.repeat(65) }),
      error: 'DECODE_OVERSIZE',
    },
    {
      name: 'hardwareSerial with an encoded surrogate (ED A0 80)',
      bytes: patch(enc({}), '7031303030', '70eda08030'),
      error: 'DECODE_INVALID_UTF8',
    },
    {
      name: 'hardwareSerial with an overlong "/" (C0 AF)',
      bytes: patch(enc({}), '7031303030', '70c0af3030'),
      error: 'DECODE_INVALID_UTF8',
    },
  ];
}

function fileRejects(): RejectSpec[] {
  const f = validObjectCases().fileRecord[0]!.value as Parameters<typeof encodeFileRecord>[0];
  const enc = (o: Partial<typeof f>) => encodeFileRecord({ ...f, ...o });
  return [
    { name: 'owner of 33 bytes', bytes: enc({ owner: zeros(33) }), error: 'DECODE_INVALID_LENGTH' },
    { name: 'replication 17', bytes: enc({ replication: 17 }), error: 'DECODE_INT_RANGE' },
    { name: 'name of 129 bytes', bytes: enc({ name: 'n'.repeat(129) }), error: 'DECODE_OVERSIZE' },
  ];
}

function lockRejects(): RejectSpec[] {
  const l = validObjectCases().atomixLockRecord[0]!.value as Parameters<typeof encodeAtomixLockRecord>[0];
  const enc = (o: Partial<typeof l>) => encodeAtomixLockRecord({ ...l, ...o });
  const bytes = enc({});
  const tail = `${cborHex(l.inputIndex)}01${cborHex(l.amount)}`;
  return [
    { name: 'crossTxId of 31 bytes', bytes: enc({ crossTxId: zeros(31) }), error: 'DECODE_INVALID_LENGTH' },
    {
      name: 'status 0',
      bytes: patch(bytes, tail, `${cborHex(l.inputIndex)}00${cborHex(l.amount)}`),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'status 5',
      bytes: patch(bytes, tail, `${cborHex(l.inputIndex)}05${cborHex(l.amount)}`),
      error: 'DECODE_INT_RANGE',
    },
    { name: 'inputIndex 256', bytes: enc({ inputIndex: 256 }), error: 'DECODE_INT_RANGE' },
  ];
}

function genesisRejects(): RejectSpec[] {
  const g = validObjectCases().genesis[0]!.value as Genesis;
  const enc = (o: Partial<Genesis>) => encodeGenesis({ ...g, ...o });
  const al = g.allocations;
  const va = g.validators;
  const from = al.find((a) => a.bucket === 'team')!;
  const to = al.find((a) => a.bucket === 'privateSale')!;
  const shifted = al.map((a) =>
    a === from ? { ...a, liquid: a.liquid - 1n } : a === to ? { ...a, liquid: a.liquid + 1n } : a,
  );
  return [
    {
      name: 'bucket 5',
      bytes: patch(
        enc({}),
        `84${cborHex(AllocationBucket[al[0]!.bucket])}5820${hex(al[0]!.address)}`,
        `84055820${hex(al[0]!.address)}`,
      ),
      error: 'DECODE_INT_RANGE',
    },
    {
      name: 'allocation address of 31 bytes',
      bytes: enc({ allocations: [{ ...al[0]!, address: al[0]!.address.subarray(0, 31) }, ...al.slice(1)] }),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'allocations out of order',
      bytes: enc({ allocations: [al[1]!, al[0]!, ...al.slice(2)] }),
      error: 'DECODE_INVALID_VALUE',
    },
    {
      name: 'an allocation listed twice',
      bytes: enc({ allocations: [al[0]!, ...al] }),
      error: 'DECODE_INVALID_VALUE',
    },
    { name: 'no allocations', bytes: enc({ allocations: [] }), error: 'DECODE_INVALID_LENGTH' },
    {
      name: 'validators out of order',
      bytes: enc({ validators: [va[1]!, va[0]!, ...va.slice(2)] }),
      error: 'DECODE_INVALID_VALUE',
    },
    { name: 'no validators', bytes: enc({ validators: [] }), error: 'DECODE_INVALID_LENGTH' },
    { name: 'shardCount 1025', bytes: enc({ shardCount: 1025 }), error: 'DECODE_INT_RANGE' },
    {
      name: 'BLS proof of possession of 95 bytes',
      bytes: enc({ validators: [{ ...va[0]!, blsPop: va[0]!.blsPop.subarray(0, 95) }, ...va.slice(1)] }),
      error: 'DECODE_INVALID_LENGTH',
    },
    {
      name: 'one unit moved between two buckets',
      bytes: enc({ allocations: shifted }),
      stage: 'validate',
      error: 'GENESIS_INVALID',
      note: 'Decodes; validateGenesis rejects it (each bucket must hold exactly its share).',
    },
    {
      name: "a validator whose proof of possession is another validator's",
      bytes: enc({ validators: [{ ...va[0]!, blsPop: va[1]!.blsPop }, ...va.slice(1)] }),
      stage: 'validate',
      error: 'GENESIS_INVALID',
    },
  ];
}

/** Kind-specific rejects, by kind. */
export const SPECIFIC_REJECTS: Record<ObjectKind, () => RejectSpec[]> = {
  tx: txRejects,
  header: headerRejects,
  block: blockRejects,
  finalityCertificate: certificateRejects,
  committee: committeeRejects,
  stateBlock: stateBlockRejects,
  account: accountRejects,
  deviceRecord: deviceRejects,
  fileRecord: fileRejects,
  atomixLockRecord: lockRejects,
  genesis: genesisRejects,
};
