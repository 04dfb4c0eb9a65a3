/** NodeMetrics: own registry per node, scrape-time gauges, event-driven counters and histograms. */
import { describe, expect, test } from 'vitest';
import { NodeMetrics } from '../../../../gateway/metrics/metrics.js';

const source = (over: Partial<Record<string, number>> = {}) => ({
  height: () => over.height ?? 11,
  finalizedHeight: () => 10,
  view: () => 2,
  epoch: () => 1,
  stateBlocks: () => over.stateBlocks ?? 1,
  mempool: () => ({ size: 3, bytes: 600 }),
  peers: () => 4,
});

function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

describe('NodeMetrics', () => {
  test('gauges read the node at scrape time', async () => {
    const m = new NodeMetrics({ defaultMetrics: false });
    let height = 11;
    m.bind({ ...source(), height: () => height });
    let text = await m.render();
    expect(value(text, 'iosnet_height')).toBe(11);
    expect(value(text, 'iosnet_finalized_height')).toBe(10);
    expect(value(text, 'iosnet_view')).toBe(2);
    expect(value(text, 'iosnet_epoch')).toBe(1);
    expect(value(text, 'iosnet_mempool_txs')).toBe(3);
    expect(value(text, 'iosnet_mempool_bytes')).toBe(600);
    expect(value(text, 'iosnet_peers')).toBe(4);
    height = 12;
    text = await m.render();
    expect(value(text, 'iosnet_height')).toBe(12);
  });

  test('counters and histograms follow consensus events and API requests', async () => {
    const m = new NodeMetrics({ defaultMetrics: false });
    let stateBlocks = 2;
    m.bind({ ...source(), stateBlocks: () => stateBlocks });
    const block = (n: number) =>
      ({ parsed: { txIds: Array.from({ length: n }, () => new Uint8Array(32)) } }) as never;
    m.events.finalized!(block(0));
    m.events.finalized!(block(7));
    m.events.viewChange!({ height: 3, view: 1 });
    m.events.evidence!({ kind: 2, offender: 1, height: 3 });
    m.observeGrade(1, 0.1);
    m.observeGrade(2, 0.3);
    m.observeApiRequest('/status', 200);
    m.observeApiRequest('/status', 200);
    stateBlocks = 5;
    const text = await m.render();
    expect(value(text, 'iosnet_finalized_blocks_total')).toBe(2);
    expect(value(text, 'iosnet_finalized_txs_total')).toBe(7);
    expect(value(text, 'iosnet_view_changes_total')).toBe(1);
    expect(value(text, 'iosnet_evidence_total{kind="2"}')).toBe(1);
    // Counted from bind(): the 2 state blocks held before do not count.
    expect(value(text, 'iosnet_state_blocks_total')).toBe(3);
    expect(value(text, 'iosnet_block_txs_count')).toBe(2);
    expect(value(text, 'iosnet_block_txs_bucket{le="5"}')).toBe(1);
    expect(value(text, 'iosnet_tx_grade1_seconds_count')).toBe(1);
    expect(value(text, 'iosnet_tx_grade2_seconds_sum')).toBeCloseTo(0.3);
    expect(value(text, 'iosnet_api_requests_total{route="/status",status="200"}')).toBe(2);
  });

  test('two nodes in one process keep separate registries; default metrics are available', async () => {
    const a = new NodeMetrics({ defaultMetrics: true });
    const b = new NodeMetrics({ defaultMetrics: true });
    a.bind(source());
    b.bind(source());
    a.observeApiRequest('/x', 404);
    expect(await b.render()).not.toContain('route="/x"');
    expect(await a.render()).toContain('process_cpu_user_seconds_total');
    expect(a.contentType).toMatch(/^text\/plain/);
  });
});
