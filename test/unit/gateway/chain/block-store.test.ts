import { afterEach, describe, expect, it } from 'vitest';
import { equalBytes } from '../../../../core/bytes.js';
import { type Committee, committeeHash } from '../../../../core/committee.js';
import { verifyMerkleProof } from '../../../../core/merkle.js';
import { type StateBlock, stateBlockIdOf, ZERO_HASH } from '../../../../core/state-block.js';
import { assertTotalSupply } from '../../../../core/token.js';
import { decodeTx } from '../../../../core/tx.js';
import { verifyAccountProof } from '../../../../core/verify.js';
import { LmdbBlockStore } from '../../../../gateway/chain/block-store.js';
import { commitFinalizedBlock } from '../../../../gateway/chain/commit.js';
import { heightKey, readU64 } from '../../../../gateway/db/namespaces.js';
import { TEST_CHAIN_ID } from '../../../helpers/chain.js';
import { blsKey, ed25519Key } from '../../../helpers/keys.js';
import {
  context,
  crypto,
  type Harness,
  openHarness,
  type SignedTx,
  transfer,
  whale,
} from '../state/helpers.js';
import { type FinalBlock, finalBlock } from './blocks.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});

const committee: Committee = {
  chainId: TEST_CHAIN_ID,
  shard: 0,
  epoch: 0,
  leagueSize: 1,
  members: [{ blsPublicKey: blsKey('chain/c0').publicKey, weight: 1 }],
};
const cHash = committeeHash(crypto, committee);

function stateBlock(
  index: number,
  interval: number,
  previous: StateBlock | undefined,
  root: Uint8Array,
): StateBlock {
  return {
    chainId: TEST_CHAIN_ID,
    shard: 0,
    epoch: 0,
    index,
    fromHeight: index * interval + 1,
    toHeight: (index + 1) * interval,
    stateRoot: root,
    previous: previous ? stateBlockIdOf(crypto, previous) : ZERO_HASH,
    committee: cHash,
    nextCommittee: cHash,
    signature: { signers: Uint8Array.of(0x80), signature: new Uint8Array(96) },
  };
}

/** Runs blocks through state and chain together, storing a state block at every checkpoint. */
function runChain(
  h: Harness,
  chain: LmdbBlockStore,
  count: number,
): { blocks: FinalBlock[]; txs: SignedTx[] } {
  const blocks: FinalBlock[] = [];
  const txs: SignedTx[] = [];
  let last: FinalBlock | undefined;
  let sb = chain.latestStateBlock();
  for (let i = 0; i < count; i++) {
    const height = h.state.height + 1;
    const x = h.state.beginBlock(context(height));
    const these: SignedTx[] = [];
    for (let j = 0; j < 3; j++) {
      const t = transfer(whale(), ed25519Key(`chain/${j}`).address, 1n, x.getAccount(whale().address).nonce);
      x.apply(t.tx, t.id);
      these.push(t);
    }
    const root = x.finish();
    const parent = chain.getBlockId(height - 1) ?? new Uint8Array(32);
    const b = finalBlock(crypto, {
      height,
      parent,
      txs: these,
      stateRoot: root,
      lastCommit: last?.certificate ?? null,
    });
    commitFinalizedBlock({ db: h.db, chain, state: h.state }, { ...b, execution: x });
    assertTotalSupply(h.state.accounts());
    if (height % 4 === 0) {
      sb = stateBlock(height / 4 - 1, 4, sb, root);
      chain.putStateBlock(sb, [committee]);
    }
    blocks.push(b);
    txs.push(...these);
    last = b;
  }
  return { blocks, txs };
}

describe('block store', () => {
  it('stores final blocks with certificates, ids, heights and the tx index', () => {
    const h = openHarness({ options: {} });
    open.push(h);
    const chain = new LmdbBlockStore({ archive: true }, { db: h.db, crypto });
    const { blocks, txs } = runChain(h, chain, 6);
    expect(chain.finalizedHeight).toBe(6);
    const b3 = blocks[2]!;
    expect(chain.getBlockBytes(3)).toEqual(b3.block.bytes);
    expect(chain.getHeight(b3.block.blockId)).toBe(3);
    expect(chain.getBlockId(3)).toEqual(b3.block.blockId);
    expect(chain.getCertificate(3)).toEqual(b3.certificate);
    const t = txs[7]!;
    const found = chain.getTransaction(t.id)!;
    expect(found).toMatchObject({ height: 3, index: 1, grade: 2 });
    expect(decodeTx(found.txBytes)).toEqual(t.tx);
    verifyMerkleProof(crypto, found.proof.header.txRoot, t.id, found.proof.proof);
    expect(equalBytes(found.proof.header.stateRoot, chain.getHeader(3)!.stateRoot)).toBe(true);
  });

  it('refuses a block that does not follow, or a certificate of another block', () => {
    const h = openHarness();
    open.push(h);
    const chain = new LmdbBlockStore({}, { db: h.db, crypto });
    const b1 = finalBlock(crypto, {
      height: 1,
      parent: new Uint8Array(32),
      txs: [],
      stateRoot: h.state.root(),
      lastCommit: null,
    });
    const b2 = finalBlock(crypto, {
      height: 2,
      parent: new Uint8Array(32),
      txs: [],
      stateRoot: h.state.root(),
      lastCommit: b1.certificate,
    });
    expect(() => chain.putFinalized(b2)).toThrow(expect.objectContaining({ code: 'CHAIN_NOT_SUCCESSOR' }));
    expect(() => h.db.transaction(() => chain.putFinalized({ ...b1, certificate: b2.certificate }))).toThrow(
      expect.objectContaining({ code: 'CHAIN_NOT_SUCCESSOR' }),
    );
    h.db.transaction(() => chain.putFinalized(b1));
    expect(() => h.db.transaction(() => chain.putFinalized(b2))).toThrow(
      expect.objectContaining({ code: 'CHAIN_NOT_SUCCESSOR' }),
    );
    expect(() => h.db.bucket('block').put(Uint8Array.of(1), Uint8Array.of(1))).toThrow(
      expect.objectContaining({ code: 'DB_NO_TRANSACTION' }),
    );
  });

  it('prunes bodies before the previous state block, keeps ids, state blocks and state proofs', () => {
    const h = openHarness();
    open.push(h);
    const chain = new LmdbBlockStore({}, { db: h.db, crypto });
    const { blocks, txs } = runChain(h, chain, 14);
    // State blocks 0..2 cover 1..12; the previous one (index 1) starts at 5.
    expect(chain.prunedBelow).toBe(5);
    expect(chain.getBlockBytes(4)).toBeUndefined();
    expect(chain.getCertificate(4)).toBeUndefined();
    expect(chain.getBlockBytes(5)).toEqual(blocks[4]!.block.bytes);
    expect(chain.getBlockId(2)).toEqual(blocks[1]!.block.blockId);
    expect(chain.getTransaction(txs[0]!.id)).toBeUndefined();
    expect(chain.getTransaction(txs[14]!.id)).toMatchObject({ height: 5 });
    expect(chain.getStateBlock(0)!.index).toBe(0);
    expect(chain.latestStateBlock()!.index).toBe(2);
    expect(chain.getCommittee(cHash)).toEqual(committee);
    // After pruning, the first transaction's inclusion shows through state: whale's nonce is past it.
    const sb = chain.latestStateBlock()!;
    const proof = h.state.prove('account', whale().address, sb.toHeight);
    const account = verifyAccountProof(crypto, sb.stateRoot, whale().address, proof)!;
    expect(account.nonce).toBeGreaterThan(txs[0]!.tx.body.nonce);
    expect(() => chain.putStateBlock({ ...sb, index: 5 }, [])).toThrow(
      expect.objectContaining({ code: 'CHAIN_STATE_BLOCK_INVALID' }),
    );
  });

  it('finds transactions of retained blocks without a tx index (pruned) and resolves shared id prefixes', () => {
    const h = openHarness();
    open.push(h);
    const chain = new LmdbBlockStore({}, { db: h.db, crypto });
    const { txs } = runChain(h, chain, 14);
    // A pruned node writes no txIndex entry, only each block's 8-byte id prefixes, deleted with the body.
    expect([...h.db.bucket('txIndex').keys()]).toHaveLength(0);
    expect([...h.db.bucket('blockTxIds').keys()].map((k) => readU64(k))).toEqual([
      5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    ]);
    expect(chain.getTxLocation(txs[14]!.id)).toEqual({ height: 5, index: 2 });
    expect(chain.getTransaction(txs[41]!.id)).toMatchObject({ height: 14, index: 2, grade: 2 });
    expect(chain.getTransaction(crypto.sha256(Uint8Array.of(1)))).toBeUndefined();
    // Another block claiming the same prefix (a collision, or a table gone wrong) is checked and skipped.
    const target = txs[20]!.id; // height 7, index 2
    const forged = h.db.bucket('blockTxIds').get(heightKey(14))!;
    forged.set(target.subarray(0, 8), 0);
    h.db.transaction(() => h.db.bucket('blockTxIds').put(heightKey(14), forged));
    expect(chain.getTxLocation(target)).toEqual({ height: 7, index: 2 });
    const found = chain.getTransaction(target)!;
    verifyMerkleProof(crypto, found.proof.header.txRoot, target, found.proof.proof);
  });

  it('keeps a tx index as an archive, and prunes one left by an archive run', () => {
    const h = openHarness();
    open.push(h);
    const archive = new LmdbBlockStore({ archive: true }, { db: h.db, crypto });
    const { txs } = runChain(h, archive, 4);
    expect([...h.db.bucket('txIndex').keys()]).toHaveLength(12);
    expect(archive.getTxLocation(txs[4]!.id)).toEqual({ height: 2, index: 1 });
    // The same directory opened as a pruned node: its txIndex entries go with the bodies they point to.
    const pruned = new LmdbBlockStore({}, { db: h.db, crypto });
    runChain(h, pruned, 10);
    expect(pruned.prunedBelow).toBe(5);
    expect([...h.db.bucket('txIndex').keys()]).toHaveLength(0);
    expect(pruned.getTxLocation(txs[4]!.id)).toBeUndefined();
  });
});
