import { afterEach, describe, expect, it } from 'vitest';
import { equalBytes } from '../../../../core/bytes.js';
import { DomainTag, taggedHash } from '../../../../core/hash.js';
import { MemorySmtStore, SparseMerkleTree } from '../../../../core/smt-store.js';
import { StateNamespace, stateKey, stateValueHash } from '../../../../core/state.js';
import { assertTotalSupply, TOTAL_SUPPLY } from '../../../../core/token.js';
import { verifyAccountProof, verifyStateProof } from '../../../../core/verify.js';
import { openDatabase } from '../../../../gateway/db/lmdb.js';
import { readU64 } from '../../../../gateway/db/namespaces.js';
import { LmdbChainState } from '../../../../gateway/state/chain-state.js';
import {
  decodeSnapshotChunk,
  encodeSnapshotChunk,
  exportSnapshotChunk,
  type SnapshotChunk,
  SnapshotImporter,
} from '../../../../gateway/state/snapshot.js';
import { ed25519Key } from '../../../helpers/keys.js';
import { context, crypto, type Harness, openHarness, tempDir, transfer, whale } from './helpers.js';

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});
function harness(...args: Parameters<typeof openHarness>): Harness {
  const h = openHarness(...args);
  open.push(h);
  return h;
}

const user = (i: number) => ed25519Key(`life/${i}`).address;
const stateKeyOf = (namespace: number, id: Uint8Array) =>
  taggedHash(crypto, DomainTag.stateKey, Uint8Array.of(namespace), id);

/** Commits `count` blocks of `perBlock` transfers from the whale to users; checks the supply each time. */
function run(h: Harness, count: number, perBlock = 6): void {
  for (let b = 0; b < count; b++) {
    const x = h.state.beginBlock(context(h.state.height + 1));
    for (let i = 0; i < perBlock; i++) {
      const nonce = x.getAccount(whale().address).nonce;
      const t = transfer(whale(), user((h.state.height * perBlock + i) % 37), BigInt(1 + i), nonce);
      x.apply(t.tx, t.id);
    }
    x.finish();
    h.state.commit(x);
    assertTotalSupply(h.state.accounts());
  }
}

describe('overlays', () => {
  it('keeps two executions on one parent apart and commits only one', () => {
    const h = harness();
    const a = h.state.beginBlock(context(1));
    const b = h.state.beginBlock(context(1, { view: 1 }));
    const ta = transfer(whale(), user(1), 10n, 0);
    const tb = transfer(whale(), user(2), 20n, 0);
    a.apply(ta.tx, ta.id);
    b.apply(tb.tx, tb.id);
    expect(a.getAccount(user(2)).balance).toBe(0n);
    expect(b.getAccount(user(1)).balance).toBe(0n);
    const rootA = a.finish();
    const rootB = b.finish();
    expect(equalBytes(rootA, rootB)).toBe(false);
    expect(() => b.apply(ta.tx, ta.id)).toThrow(expect.objectContaining({ code: 'STATE_EXECUTION_CLOSED' }));
    h.state.commit(b);
    expect(h.state.root()).toEqual(rootB);
    expect(h.state.getAccount(user(1)).balance).toBe(0n);
    expect(() => h.state.commit(a)).toThrow(expect.objectContaining({ code: 'STATE_NOT_SUCCESSOR' }));
    expect(() => h.state.beginBlock(context(3))).toThrow(
      expect.objectContaining({ code: 'STATE_NOT_SUCCESSOR' }),
    );
    const unfinished = h.state.beginBlock(context(2));
    expect(() => h.state.commit(unfinished)).toThrow(
      expect.objectContaining({ code: 'STATE_EXECUTION_CLOSED' }),
    );
  });

  it('changes nothing when the surrounding transaction aborts', () => {
    const h = harness();
    const x = h.state.beginBlock(context(1));
    const t = transfer(whale(), user(1), 10n, 0);
    x.apply(t.tx, t.id);
    x.finish();
    expect(() =>
      h.db.transaction(() => {
        h.state.commit(x);
        throw new Error('chain store refused');
      }),
    ).toThrow('chain store refused');
    expect(h.state.height).toBe(0);
    h.state.commit(x);
    expect(h.state.height).toBe(1);
  });
});

describe('persistence', () => {
  it('reopens at the same height and root after checkpoints and deltas', async () => {
    const h = harness();
    run(h, 10);
    const root = h.state.root();
    expect([h.state.checkpoint, h.state.previousCheckpoint]).toEqual([8, 4]);
    await h.reopen();
    expect(h.state.height).toBe(10);
    expect(h.state.root()).toEqual(root);
    expect(h.state.totalSupply()).toBe(TOTAL_SUPPLY);
    run(h, 3);
    expect(h.state.checkpoint).toBe(12);
  });
});

/** What a reader can see of a state: heights, roots, records and proofs at every retained height. */
function observe(h: Harness) {
  const s = h.state;
  const heights = s.retainedHeights();
  return {
    heights,
    roots: heights.map((height) => s.rootAt(height)),
    proofs: heights.map((height) => [
      s.prove('account', user(3), height),
      s.prove('account', user(99), height),
    ]),
    snapshots: [s.checkpoint, s.previousCheckpoint]
      .filter((x) => x !== undefined)
      .map((height) => exportAll(h, height, 1 << 20).flatMap((c) => c.entries)),
    validators: s.listValidators(),
    supply: s.totalSupply(),
  };
}

describe('restart', () => {
  it('reopens at every height of three intervals with the same roots, proofs and snapshots', async () => {
    const h = harness();
    for (let i = 0; i < 13; i++) {
      run(h, 1, 3);
      const before = observe(h);
      await h.reopen();
      expect(observe(h)).toEqual(before);
    }
  });

  it('has the root core computes from the same records', () => {
    const h = harness();
    run(h, 7);
    for (const height of [h.state.checkpoint, h.state.previousCheckpoint!]) {
      const tree = new SparseMerkleTree(new MemorySmtStore(), crypto);
      const entries = exportAll(h, height, 1 << 20)
        .flatMap((c) => c.entries)
        .map((e) => [stateKeyOf(e.namespace, e.id), stateValueHash(crypto, e.record)] as const);
      expect(tree.applyBatch(null, 0, entries).root).toEqual(h.state.rootAt(height));
    }
  });

  it('recovers the same state when a fold block is aborted and committed again', async () => {
    const a = harness();
    const b = harness();
    run(a, 6);
    run(b, 5);
    const x = b.state.beginBlock(context(6));
    const t = transfer(whale(), user((5 * 6) % 37), 1n, x.getAccount(whale().address).nonce);
    x.apply(t.tx, t.id);
    x.finish();
    expect(() =>
      b.db.transaction(() => {
        b.state.commit(x);
        throw new Error('chain store refused');
      }),
    ).toThrow('chain store refused');
    await b.reopen();
    run(b, 1);
    run(a, 5);
    run(b, 5);
    expect(observe(b)).toEqual(observe(a));
  });
});

describe('proofs', () => {
  it('proves records and absence at the latest height and at both retained checkpoints', () => {
    const h = harness();
    run(h, 9);
    const heights = [h.state.height, h.state.checkpoint, h.state.previousCheckpoint!];
    expect(heights).toEqual([9, 8, 4]);
    for (const height of heights) {
      const root = h.state.rootAt(height);
      const p = h.state.prove('account', user(3), height);
      expect(p.record).not.toBeNull();
      verifyStateProof(crypto, root, p, { namespace: 'account', id: user(3) });
      const acc = verifyAccountProof(crypto, root, user(3), p)!;
      expect(acc.balance).toBeGreaterThan(0n);
      const absent = h.state.prove('account', user(999), height);
      expect(absent.record).toBeNull();
      expect(verifyStateProof(crypto, root, absent, { namespace: 'account', id: user(999) })).toBeNull();
    }
    const latest = verifyAccountProof(crypto, h.state.root(), user(3), h.state.prove('account', user(3)))!;
    const old = verifyAccountProof(crypto, h.state.rootAt(4), user(3), h.state.prove('account', user(3), 4))!;
    expect(latest.balance).toBeGreaterThan(old.balance);
    expect(latest).toEqual(h.state.getAccount(user(3)));
    expect(() => h.state.prove('account', user(3), 6)).toThrow(
      expect.objectContaining({ code: 'STATE_HEIGHT_NOT_RETAINED' }),
    );
  });

  it('stores no tree, prunes undo values and deltas, keeps the state blocks provable (archive keeps undo)', () => {
    const pruned = harness();
    const archive = harness({ options: { archive: true } });
    run(pruned, 18);
    run(archive, 18);
    expect(pruned.state.root()).toEqual(archive.state.root());
    for (const height of [16, 12]) {
      const p = pruned.state.prove('account', user(5), height);
      verifyAccountProof(crypto, pruned.state.rootAt(height), user(5), p);
    }
    const keys = (x: Harness, ns: 'smtNode' | 'smtStale' | 'stateUndo' | 'stateDelta') => [
      ...x.db.bucket(ns).keys(),
    ];
    for (const x of [pruned, archive]) {
      expect(keys(x, 'smtNode')).toHaveLength(0);
      expect(keys(x, 'smtStale')).toHaveLength(0);
      // Deltas after the previous checkpoint: restart replays them.
      expect(keys(x, 'stateDelta').map((k) => readU64(k))).toEqual([13, 14, 15, 16, 17, 18]);
    }
    // Undo values of the latest checkpoint only (two slices of (12, 16] folded by blocks 17 and 18);
    // the archive keeps every checkpoint's.
    const checkpoints = (x: Harness) => [...new Set(keys(x, 'stateUndo').map((k) => readU64(k)))];
    expect(checkpoints(pruned)).toEqual([16]);
    expect(checkpoints(archive)).toEqual([4, 8, 12, 16]);
  });
});

function exportAll(h: Harness, height: number, maxBytes: number): SnapshotChunk[] {
  const chunks: SnapshotChunk[] = [];
  let cursor: Uint8Array | null = null;
  do {
    const c = exportSnapshotChunk(h.state, height, cursor, maxBytes);
    chunks.push(decodeSnapshotChunk(encodeSnapshotChunk(c)));
    cursor = c.next;
  } while (cursor !== null);
  return chunks;
}

describe('snapshots', () => {
  for (const which of ['latest', 'previous'] as const) {
    it(`exports the ${which} checkpoint in chunks and imports it to the same root`, async () => {
      const h = harness();
      run(h, 10);
      const height = which === 'latest' ? h.state.checkpoint : h.state.previousCheckpoint!;
      const root = h.state.rootAt(height);
      const chunks = exportAll(h, height, 400);
      expect(chunks.length).toBeGreaterThan(2);
      const dir = tempDir('import');
      const db = openDatabase({ path: dir.path, noSync: true });
      try {
        const importer = new SnapshotImporter({ db, crypto, genesis: h.genesis }, height, root);
        for (const c of chunks) importer.add(c);
        importer.finish();
        const state = new LmdbChainState({}, { db, crypto, genesis: h.genesis });
        expect(state.height).toBe(height);
        expect(state.root()).toEqual(root);
        expect(state.listValidators()).toEqual(h.state.listValidators());
        expect(state.totalSupply()).toBe(TOTAL_SUPPLY);
        const x = state.beginBlock(context(height + 1));
        x.apply(
          transfer(whale(), user(1), 1n, x.getAccount(whale().address).nonce).tx,
          transfer(whale(), user(1), 1n, x.getAccount(whale().address).nonce).id,
        );
        x.finish();
        state.commit(x);
      } finally {
        await db.close();
        dir.remove();
      }
    });
  }

  it('refuses a tampered snapshot and leaves the target empty', async () => {
    const h = harness();
    run(h, 8);
    const height = h.state.checkpoint;
    const chunks = exportAll(h, height, 1 << 20);
    const [first] = chunks;
    const entries = first!.entries.map((e, i) =>
      i === 3
        ? { ...e, record: Uint8Array.from(e.record, (b, j) => (j === e.record.length - 1 ? b ^ 1 : b)) }
        : e,
    );
    const dir = tempDir('tamper');
    const db = openDatabase({ path: dir.path, noSync: true });
    try {
      const importer = new SnapshotImporter(
        { db, crypto, genesis: h.genesis },
        height,
        h.state.rootAt(height),
      );
      importer.add({ ...first!, entries });
      expect(() => importer.finish()).toThrow(expect.objectContaining({ code: 'SNAPSHOT_ROOT_MISMATCH' }));
      expect([...db.bucket('stateRecord').keys()]).toHaveLength(0);
      const reordered = new SnapshotImporter(
        { db, crypto, genesis: h.genesis },
        height,
        h.state.rootAt(height),
      );
      expect(() => reordered.add({ ...first!, entries: [...first!.entries].reverse() })).toThrow(
        expect.objectContaining({ code: 'SNAPSHOT_INVALID' }),
      );
      expect(() => exportSnapshotChunk(h.state, 3, null)).toThrow(
        expect.objectContaining({ code: 'STATE_HEIGHT_NOT_RETAINED' }),
      );
    } finally {
      await db.close();
      dir.remove();
    }
  });
});

describe('keys', () => {
  it("uses core's state key derivation", () => {
    const h = harness();
    const p = h.state.prove('account', whale().address);
    expect(p.proof.leaf?.key).toEqual(stateKey(crypto, 'account', whale().address));
    expect(p.proof.leaf?.valueHash).toEqual(stateValueHash(crypto, p.record!));
    expect(StateNamespace.account).toBe(1);
  });
});
