/** TxTracker (grades, latency percentiles, tx/s, bounded memory) and TxGossip (batched 'txs' messages). */
import { describe, expect, test, vi } from 'vitest';
import type { BlockHeader } from '../../../../core/header.js';
import { TxGossip } from '../../../../gateway/api/gossip.js';
import { defaultApiOptions } from '../../../../gateway/api/options.js';
import { TxTracker } from '../../../../gateway/api/tx-tracker.js';
import type { PeerMessage } from '../../../../gateway/network/interface.js';

const id = (n: number) => new Uint8Array(32).fill(n);
const header = (height: number, view = 0) => ({ height, view }) as unknown as BlockHeader;

describe('TxTracker', () => {
  test('times grade 1 and grade 2 from submission; percentiles over recent samples', () => {
    let now = 1000;
    const grades: [number, number][] = [];
    const t = new TxTracker(defaultApiOptions, { now: () => now, onGrade: (g, s) => grades.push([g, s]) });
    for (let i = 1; i <= 100; i++) t.submit(id(i));
    now += 50;
    t.proposal({ height: 1, blockId: id(200), txIds: [id(1), id(2)], valid: true, header: header(1) });
    // An invalid proposal is not grade 1.
    t.proposal({ height: 1, blockId: id(201), txIds: [id(3)], valid: false, header: header(1) });
    expect(t.grade1(id(2))?.index).toBe(1);
    expect(t.grade1(id(3))).toBeUndefined();
    now += 100;
    t.finalized(1, [id(1), id(2), id(3)]);
    expect(t.grade1(id(2))).toBeUndefined();
    expect(grades).toEqual([
      [1, 0.05],
      [1, 0.05],
      [2, 0.15],
      [2, 0.15],
      [2, 0.15],
    ]);
    expect(t.latencySummary(1)).toEqual({ p50: 50, p99: 50, samples: 2 });
    expect(t.latencySummary(2)).toEqual({ p50: 150, p99: 150, samples: 3 });
    // Samples older than a minute no longer count.
    now += 61_000;
    expect(t.latencySummary(2).samples).toBe(0);
  });

  test('a proposal event makes its transactions grade 1; tx/s over the window', () => {
    let now = 0;
    const t = new TxTracker({ ...defaultApiOptions, tpsWindowMs: 10_000 }, { now: () => now });
    t.proposal({ height: 5, blockId: id(9), txIds: [id(1)], valid: true, header: header(5) });
    expect(t.grade1(id(1))?.block.height).toBe(5);
    now = 20_000;
    for (let h = 5; h < 15; h++) {
      t.finalized(
        h,
        Array.from({ length: 10 }, (_, i) => id(i)),
      );
      now += 1000;
    }
    expect(t.txPerSecond()).toBeCloseTo(10, 5);
  });

  test('memory is bounded: submitted ids (LRU) and proposals', () => {
    const t = new TxTracker({ ...defaultApiOptions, trackedTxs: 10, trackedBlocks: 3 }, { now: () => 0 });
    for (let i = 0; i < 50; i++) t.submit(id(i));
    expect((t as unknown as { submitted: Map<string, unknown> }).submitted.size).toBe(10);
    for (let i = 0; i < 10; i++)
      t.proposal({ height: 100 + i, blockId: id(i), txIds: [id(i)], valid: true, header: header(100 + i) });
    expect((t as unknown as { proposals: Map<string, unknown> }).proposals.size).toBe(3);
  });
});

describe('TxGossip', () => {
  test('flushes at gossipBatchTxs at once, the rest after gossipFlushMs, everything on close', () => {
    vi.useFakeTimers();
    try {
      const sent: PeerMessage[] = [];
      const g = new TxGossip(
        { gossipFlushMs: 5, gossipBatchTxs: 256 },
        { network: { broadcast: (m) => sent.push(m) } },
      );
      for (let i = 0; i < 300; i++) g.push(new Uint8Array([i & 0xff]));
      expect(sent.map((m) => (m.type === 'txs' ? m.txs.length : -1))).toEqual([256]);
      vi.advanceTimersByTime(5);
      expect(sent.map((m) => (m.type === 'txs' ? m.txs.length : -1))).toEqual([256, 44]);
      g.push(new Uint8Array([1]));
      g.close();
      expect(sent).toHaveLength(3);
      g.push(new Uint8Array([2]));
      vi.advanceTimersByTime(10);
      expect(sent).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
