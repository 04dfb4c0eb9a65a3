/**
 * A gateway's Prometheus metrics (prom-client), one Registry per node so that several nodes in one process
 * (tests, the simulator) never share or clobber each other's series. Every metric is listed, with its type
 * and meaning, in docs/metrics.md.
 *
 * Counters move on consensus events (ConsensusEvents) and API requests; gauges that mirror node state
 * (heights, mempool, peers) are read at scrape time through `collect`, so they cost nothing between scrapes
 * and can never go stale.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ConsensusEvents } from '../consensus/interface.js';

/** What the scrape-time gauges read; a node provides it once it is built. */
export interface MetricsSource {
  /** Height being decided. */
  height(): number;
  finalizedHeight(): number;
  view(): number;
  epoch(): number;
  /** State blocks this node holds (latest index + 1). */
  stateBlocks(): number;
  mempool(): { size: number; bytes: number };
  peers(): number;
}

export interface MetricsOptions {
  /** process_* and nodejs_* metrics (prom-client's defaults). Off in tests that build many nodes. */
  readonly defaultMetrics: boolean;
}

export const defaultMetricsOptions: MetricsOptions = { defaultMetrics: true };

/** Seconds from submission to this gateway to grade 1 / grade 2: one block interval is 0.5 s on a devnet. */
const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];
/** Transactions per block: up to MAX_BLOCK_TXS (20,000). */
const BLOCK_TX_BUCKETS = [0, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000];

export class NodeMetrics {
  readonly registry = new Registry();
  private source: MetricsSource | undefined;
  private stateBlocksSeen = 0;

  private readonly finalizedBlocks: Counter;
  private readonly finalizedTxs: Counter;
  private readonly viewChanges: Counter;
  private readonly evidence: Counter<'kind'>;
  private readonly blockTxs: Histogram;
  private readonly grade1: Histogram;
  private readonly grade2: Histogram;
  private readonly apiRequests: Counter<'route' | 'status'>;
  private readonly mqttRequests: Counter<'kind'>;
  private readonly mqttRefusals: Counter<'reason'>;
  private mqttDevices: (() => number) | undefined;

  constructor(opts: MetricsOptions = defaultMetricsOptions) {
    const registers = [this.registry];
    const source = () => this.source;
    const gauge = (name: string, help: string, read: (s: MetricsSource) => number) =>
      new Gauge({
        name,
        help,
        registers,
        // prom-client calls collect with the metric as `this`.
        collect(this: Gauge) {
          const s = source();
          if (s) this.set(read(s));
        },
      });
    gauge('iosnet_height', 'Height this node is deciding (finalized height + 1).', (s) => s.height());
    gauge('iosnet_finalized_height', 'Height of the last final block.', (s) => s.finalizedHeight());
    gauge('iosnet_view', 'Consensus view at the height being decided.', (s) => s.view());
    gauge('iosnet_epoch', 'Epoch of the height being decided.', (s) => s.epoch());
    gauge('iosnet_mempool_txs', 'Transactions in the mempool.', (s) => s.mempool().size);
    gauge('iosnet_mempool_bytes', 'Wire bytes of the transactions in the mempool.', (s) => s.mempool().bytes);
    gauge('iosnet_peers', 'Connected, authenticated peers.', (s) => s.peers());
    this.finalizedBlocks = new Counter({
      name: 'iosnet_finalized_blocks_total',
      help: 'Blocks this node finalized (decided or synced) since it started.',
      registers,
    });
    this.finalizedTxs = new Counter({
      name: 'iosnet_finalized_txs_total',
      help: 'Transactions in the blocks this node finalized since it started.',
      registers,
    });
    this.viewChanges = new Counter({
      name: 'iosnet_view_changes_total',
      help: 'Views entered beyond view 0 (a proposer stalled or its block failed).',
      registers,
    });
    this.evidence = new Counter({
      name: 'iosnet_evidence_total',
      help: 'Misbehaviour detected and submitted as evidence, by kind (1 proposal equivocation, 2 vote equivocation, 3 invalid block).',
      labelNames: ['kind'],
      registers,
    });
    const stateBlocks = new Counter({
      name: 'iosnet_state_blocks_total',
      help: 'State blocks this node stored since it started.',
      registers,
      collect: () => {
        const n = this.source?.stateBlocks() ?? 0;
        if (n > this.stateBlocksSeen) {
          stateBlocks.inc(n - this.stateBlocksSeen);
          this.stateBlocksSeen = n;
        }
      },
    });
    this.blockTxs = new Histogram({
      name: 'iosnet_block_txs',
      help: 'Transactions per finalized block.',
      buckets: BLOCK_TX_BUCKETS,
      registers,
    });
    this.grade1 = new Histogram({
      name: 'iosnet_tx_grade1_seconds',
      help: 'From submission to this gateway (POST /txs) to grade 1: in a valid proposal of a league member.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.grade2 = new Histogram({
      name: 'iosnet_tx_grade2_seconds',
      help: 'From submission to this gateway (POST /txs) to grade 2: final, in a block with a commit certificate.',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.apiRequests = new Counter({
      name: 'iosnet_api_requests_total',
      help: 'HTTP API requests by route pattern and status code.',
      labelNames: ['route', 'status'],
      registers,
    });
    const mqttDevices = () => this.mqttDevices;
    new Gauge({
      name: 'iosnet_mqtt_connected_devices',
      help: 'Devices connected to the MQTT bridge (embedded broker) or holding a live broker credential (external).',
      registers,
      collect(this: Gauge) {
        const read = mqttDevices();
        if (read) this.set(read());
      },
    });
    this.mqttRequests = new Counter({
      name: 'iosnet_mqtt_requests_total',
      help: 'Device requests served over MQTT, by request kind (malformed ones count as "malformed").',
      labelNames: ['kind'],
      registers,
    });
    this.mqttRefusals = new Counter({
      name: 'iosnet_mqtt_refusals_total',
      help: 'MQTT connections, publishes, subscriptions and requests refused, by reason.',
      labelNames: ['reason'],
      registers,
    });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** Binds the scrape-time gauges to a node; the state blocks it already holds are not counted. */
  bind(source: MetricsSource): void {
    this.source = source;
    this.stateBlocksSeen = source.stateBlocks();
  }

  /** Consensus events feeding the counters (compose with others: gateway/api/events.ts). */
  readonly events: ConsensusEvents = {
    finalized: ({ parsed }) => {
      this.finalizedBlocks.inc();
      this.finalizedTxs.inc(parsed.txIds.length);
      this.blockTxs.observe(parsed.txIds.length);
    },
    viewChange: () => this.viewChanges.inc(),
    evidence: ({ kind }) => this.evidence.inc({ kind: String(kind) }),
  };

  observeGrade(grade: 1 | 2, seconds: number): void {
    (grade === 1 ? this.grade1 : this.grade2).observe(seconds);
  }

  observeApiRequest(route: string, status: number): void {
    this.apiRequests.inc({ route, status: String(status) });
  }

  /** The MQTT bridge's connected-device count (read at scrape time). */
  bindMqtt(connectedDevices: () => number): void {
    this.mqttDevices = connectedDevices;
  }

  observeMqttRequest(kind: string): void {
    this.mqttRequests.inc({ kind });
  }

  observeMqttRefusal(reason: string): void {
    this.mqttRefusals.inc({ reason });
  }

  /** Current value of a counter series (tests and the status page). */
  async counterValue(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return 0;
    const { values } = await metric.get();
    const hit = values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x));
    return hit?.value ?? 0;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
