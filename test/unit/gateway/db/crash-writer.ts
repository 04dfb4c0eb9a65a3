/**
 * Child process of crash.test.ts: opens (or reopens) a node's database in argv[2] and commits final blocks
 * in a loop — state and block store in one transaction, a state block at every checkpoint — printing each
 * committed height on stdout, until the parent kills it with SIGKILL.
 */
import { LmdbBlockStore } from '../../../../gateway/chain/block-store.js';
import { commitFinalizedBlock } from '../../../../gateway/chain/commit.js';
import { openDatabase } from '../../../../gateway/db/lmdb.js';
import { LmdbChainState } from '../../../../gateway/state/chain-state.js';
import { ed25519Key } from '../../../helpers/keys.js';
import { finalBlock } from '../chain/blocks.js';
import { context, crypto, stateGenesis, transfer, whale } from '../state/helpers.js';
import { crashCommittee, crashStateBlock, INTERVAL } from './crash-shared.js';

const dir = process.argv[2]!;
const db = openDatabase({ path: dir });
const genesis = stateGenesis();
const state = new LmdbChainState({}, { db, crypto, genesis });
const chain = new LmdbBlockStore({}, { db, crypto });
let seed = state.height * 7919 + 1;
const random = () => {
  seed = (seed * 48271) % 2147483647;
  return seed / 2147483647;
};
let last = chain.getCertificate(chain.finalizedHeight) ?? null;
for (;;) {
  const height = state.height + 1;
  const x = state.beginBlock(context(height), { verifySignatures: false });
  const txs = [];
  const n = 1 + Math.floor(random() * 40);
  for (let i = 0; i < n; i++) {
    const t = transfer(
      whale(),
      ed25519Key(`crash/${Math.floor(random() * 500)}`).address,
      1n + BigInt(i),
      x.getAccount(whale().address).nonce,
    );
    x.apply(t.tx, t.id);
    txs.push(t);
  }
  const root = x.finish();
  const parent = chain.getBlockId(height - 1) ?? new Uint8Array(32);
  const b = finalBlock(crypto, { height, parent, txs, stateRoot: root, lastCommit: last });
  // The state block is signed with the K-th block's commit votes, so it lands in the same transaction.
  db.transaction(() => {
    commitFinalizedBlock({ db, chain, state }, { ...b, execution: x });
    if (height % INTERVAL === 0) {
      chain.putStateBlock(crashStateBlock(chain.latestStateBlock(), height, root), [crashCommittee]);
    }
  });
  last = b.certificate;
  process.stdout.write(`${height}\n`);
}
