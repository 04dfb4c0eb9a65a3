/**
 * One decoder per iosnet object kind for `iosnet decode` (the registry that maps type numbers to these is
 * in decode.ts). Each decodes strictly with core's codec, names the object's id, and runs every signature
 * check the object allows, with core's rules (core/verify.ts) wherever core has one.
 *
 * A check reads "valid", "invalid: CODE: reason" or "unchecked: why" (a block's proposer signature needs
 * the epoch's committee, given with --committee).
 */
import { parseBlock, verifyBlockBody } from '../../core/block.js';
import {
  type Committee,
  committeeHash,
  decodeCommittee,
  leagueIndexes,
  type PreparedCommittee,
  prepareCommittee,
  verifyCollectiveSignature,
} from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError, VerifyError } from '../../core/errors.js';
import { decodeGenesis, genesisHash, validateGenesis } from '../../core/genesis.js';
import {
  type BlockHeader,
  blockIdOf,
  decodeBlockHeader,
  decodeFinalityCertificate,
  VotePhase,
  voteMessage,
} from '../../core/header.js';
import { addressOf, blsPopMessage, deviceIdentityHash } from '../../core/identity.js';
import { decodeStateProof, decodeTxInclusionProof } from '../../core/proofs.js';
import { decodeSmtProof } from '../../core/smt.js';
import { decodeDeviceRecord, stateKey, stateValueHash } from '../../core/state.js';
import { decodeStateBlock, stateBlockIdOf } from '../../core/state-block.js';
import { parseTx, type Transaction, verifyTxSignatures } from '../../core/tx.js';
import { verifyFinalityCertificate, verifyHeader, verifyStateBlock } from '../../core/verify.js';
import type { Json } from './json.js';

export interface DecodeContext {
  readonly crypto: Crypto;
  /** From --committee: needed for proposer and collective signatures. */
  readonly committee: PreparedCommittee | undefined;
  /** Decodes an object embedded in another (a proof's record) for display; undefined if it cannot. */
  readonly decodeEmbedded: (bytes: Uint8Array) => Json | undefined;
}

/** "valid", "invalid: CODE: reason" or "unchecked: why". */
export type CheckResult = string;

export interface DecodedFields {
  readonly fields: Record<string, unknown>;
  readonly id?: { readonly type: string; readonly value: Uint8Array };
  /** Absent for objects that carry no signatures. */
  readonly checks?: Record<string, CheckResult>;
}

export type ObjectDecoder = (bytes: Uint8Array, ctx: DecodeContext) => DecodedFields;

const NEEDS_COMMITTEE = 'unchecked: needs --committee';

/** Runs one verification; a typed failure becomes "invalid: ...", anything else is a bug and propagates. */
function check(verify: () => void): CheckResult {
  try {
    verify();
    return 'valid';
  } catch (err) {
    if (err instanceof IosnetError) return `invalid: ${err.code}: ${err.message}`;
    throw err;
  }
}

/**
 * A certificate alone names no chain and no header, so core's verifyFinalityCertificate (which compares it
 * with a header) does not apply; its shard and epoch must still be the committee's (codes as core/verify.ts).
 */
function certificateScope(c: Committee, shard: number, epoch: number): void {
  if (shard !== c.shard) {
    throw new VerifyError('VERIFY_WRONG_SHARD', `certificate is for shard ${shard}, committee ${c.shard}`);
  }
  if (epoch !== c.epoch) {
    throw new VerifyError(
      'VERIFY_COMMITTEE_MISMATCH',
      `certificate is for epoch ${epoch}, committee ${c.epoch}`,
    );
  }
}

/** Grade 1 as a light client checks it (core verifyHeader): scope, league membership, signature. */
function proposerCheck(ctx: DecodeContext, header: BlockHeader): CheckResult {
  const pc = ctx.committee;
  return pc ? check(() => verifyHeader(ctx.crypto, pc, header)) : NEEDS_COMMITTEE;
}

function txFields(crypto: Crypto, tx: Transaction): Record<string, unknown> {
  const { kind, ...payload } = tx.body.payload;
  const extra =
    tx.body.payload.kind === 'registerDevice'
      ? {
          deviceIdentityHash: deviceIdentityHash(
            crypto,
            tx.body.payload.boardId,
            tx.body.payload.devicePublicKey,
            tx.body.payload.hardwareSerial,
          ),
        }
      : {};
  return {
    chainId: tx.body.chainId,
    kind,
    sender: tx.body.sender,
    senderAddress: addressOf(crypto, tx.body.sender),
    nonce: tx.body.nonce,
    expiry: tx.body.expiry,
    fee: tx.body.fee,
    payload: { ...payload, ...extra },
    signatures: tx.signatures,
  };
}

/** Checks a tx can make on its own: its signatures, and the BLS proof of possession it may carry. */
function txChecks(crypto: Crypto, tx: Transaction, id: Uint8Array): Record<string, CheckResult> {
  const checks: Record<string, CheckResult> = { signatures: check(() => verifyTxSignatures(crypto, tx, id)) };
  const p = tx.body.payload;
  if (p.kind === 'registerValidator') {
    checks.blsPop = check(() => {
      const key = crypto.bls.parsePublicKey(p.blsPublicKey);
      if (!key || !crypto.bls.verify(p.blsPop, blsPopMessage(crypto, p.blsPublicKey), key)) {
        throw new VerifyError('VERIFY_BAD_SIGNATURE', 'BLS proof of possession does not verify');
      }
    });
  }
  if (p.kind === 'atomixCommit' || p.kind === 'atomixAbort') {
    checks.lockProofs = "unchecked: needs the input shards' committees";
  }
  return checks;
}

export const decodeTxObject: ObjectDecoder = (bytes, { crypto }) => {
  const { tx, id } = parseTx(crypto, bytes);
  return { fields: txFields(crypto, tx), id: { type: 'tx id', value: id }, checks: txChecks(crypto, tx, id) };
};

export const decodeHeaderObject: ObjectDecoder = (bytes, ctx) => {
  const header = decodeBlockHeader(bytes);
  const blockId = blockIdOf(ctx.crypto, header);
  return {
    fields: { ...header },
    id: { type: 'block id', value: blockId },
    checks: { proposerSignature: proposerCheck(ctx, header) },
  };
};

export const decodeBlockObject: ObjectDecoder = (bytes, ctx) => {
  const { crypto } = ctx;
  const { block, blockId, txIds } = parseBlock(crypto, bytes);
  const txSignatures = check(() => {
    block.txs.forEach((tx, i) => {
      try {
        verifyTxSignatures(crypto, tx, txIds[i]);
      } catch (err) {
        if (err instanceof VerifyError) throw new VerifyError(err.code, `tx ${i}: ${err.message}`, err.data);
        throw err;
      }
    });
  });
  return {
    fields: {
      header: block.header,
      txs: block.txs.map((tx, i) => ({ id: txIds[i], ...txFields(crypto, tx) })),
    },
    id: { type: 'block id', value: blockId },
    checks: {
      txSignatures,
      txRoot: check(() => verifyBlockBody(crypto, block, txIds)),
      proposerSignature: proposerCheck(ctx, block.header),
    },
  };
};

export const decodeCertificateObject: ObjectDecoder = (bytes, ctx) => {
  const cert = decodeFinalityCertificate(bytes);
  const pc = ctx.committee;
  const collectiveSignature = pc
    ? check(() => {
        certificateScope(pc.committee, cert.shard, cert.epoch);
        const message = voteMessage(ctx.crypto, VotePhase.commit, cert.view, cert.blockId);
        verifyCollectiveSignature(ctx.crypto, pc, message, cert.signature);
      })
    : NEEDS_COMMITTEE;
  return { fields: { ...cert }, checks: { collectiveSignature } };
};

export const decodeStateBlockObject: ObjectDecoder = (bytes, ctx) => {
  const sb = decodeStateBlock(bytes);
  const pc = ctx.committee;
  const collectiveSignature = pc ? check(() => verifyStateBlock(ctx.crypto, sb, pc)) : NEEDS_COMMITTEE;
  return {
    fields: { ...sb },
    id: { type: 'state block id', value: stateBlockIdOf(ctx.crypto, sb) },
    checks: { collectiveSignature },
  };
};

/** StateProof: the record it carries is decoded too; the SMT path needs a trusted state root to check. */
export const decodeStateProofObject: ObjectDecoder = (bytes, ctx) => {
  const p = decodeStateProof(bytes);
  const record = p.record && ctx.decodeEmbedded(p.record);
  return {
    fields: {
      ...p,
      key: stateKey(ctx.crypto, p.namespace, p.id),
      valueHash: p.record && stateValueHash(ctx.crypto, p.record),
      ...(record ? { recordDecoded: record } : {}),
    },
  };
};

/** TxInclusionProof: header (grade 1) and certificate (grade 2) checks need the committee. */
export const decodeTxInclusionProofObject: ObjectDecoder = (bytes, ctx) => {
  const p = decodeTxInclusionProof(bytes);
  const blockId = blockIdOf(ctx.crypto, p.header);
  const pc = ctx.committee;
  const checks: Record<string, CheckResult> = { proposerSignature: proposerCheck(ctx, p.header) };
  if (p.certificate) {
    const cert = p.certificate;
    checks.finalityCertificate = pc
      ? check(() => verifyFinalityCertificate(ctx.crypto, pc, cert, blockId, p.header))
      : NEEDS_COMMITTEE;
  }
  return {
    fields: { blockId, grade: p.certificate ? 2 : 1, ...p },
    checks,
  };
};

export const decodeCommitteeObject: ObjectDecoder = (bytes, { crypto }) => {
  const c = decodeCommittee(bytes);
  const totalWeight = c.members.reduce((sum, m) => sum + m.weight, 0);
  return {
    fields: { ...c, totalWeight, league: leagueIndexes(c) },
    id: { type: 'committee hash', value: committeeHash(crypto, c) },
    // A committee carries no signature; what can be checked is that every member key is usable for them.
    checks: { memberKeys: check(() => prepareCommittee(crypto, c)) },
  };
};

export const decodeGenesisObject: ObjectDecoder = (bytes, { crypto }) => {
  const g = decodeGenesis(bytes);
  return {
    fields: {
      ...g,
      validators: g.validators.map((v) => ({ address: addressOf(crypto, v.nodePublicKey), ...v })),
    },
    id: { type: 'genesis hash', value: genesisHash(crypto, g) },
    // validateGenesis checks every validator's BLS proof of possession along with the supply rules.
    checks: { validateGenesis: check(() => validateGenesis(crypto, g)) },
  };
};

export const decodeSmtProofObject: ObjectDecoder = (bytes) => {
  const p = decodeSmtProof(bytes);
  // The wire form packs the non-empty siblings into one byte string; one hash per line reads better.
  const siblings = Array.from({ length: p.siblings.length / 32 }, (_, i) =>
    p.siblings.subarray(32 * i, 32 * i + 32),
  );
  return { fields: { ...p, siblings } };
};

export const decodeDeviceRecordObject: ObjectDecoder = (bytes, { crypto }) => {
  const d = decodeDeviceRecord(bytes);
  const identityHash = deviceIdentityHash(crypto, d.boardId, d.devicePublicKey, d.hardwareSerial);
  return { fields: { ...d, identityHash } };
};

/** Kinds that carry no signatures and need nothing but their fields. */
export const unsigned =
  (decode: (bytes: Uint8Array) => object): ObjectDecoder =>
  (bytes) => ({ fields: { ...decode(bytes) } });
