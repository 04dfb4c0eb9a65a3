/**
 * The dashboard's live picture: sampled once a second from the node (the same reads as GET /status and
 * GET /metrics), kept as fixed-length series for the plots, and pushed to every browser over one event
 * stream (sse.ts). Sampling is independent of the number of browsers: a hundred open tabs cost one sample.
 */
import { toHex } from '../../core/bytes.js';
import { toJsonText } from '../api/http.js';
import type { ApiNode } from '../api/interface.js';
import { status } from '../api/routes/status.js';
import type { DeviceDirectory, DeviceSightings } from './devices.js';
import type { EventStreamHub } from './sse.js';

export interface DashboardOptions {
  /** One sample (and one `tick` event) per interval. */
  readonly sampleMs: number;
  /** Samples kept for the plots: 300 at 1 s = the last five minutes. */
  readonly seriesLength: number;
  /** Slashing events kept. */
  readonly slashingEvents: number;
}

export const defaultDashboardOptions: DashboardOptions = {
  sampleMs: 1000,
  seriesLength: 300,
  slashingEvents: 100,
};

/** One point of the plots. Latencies are the p50 over the last minute (null without samples). */
export interface SeriesPoint {
  readonly t: number;
  readonly height: number;
  readonly finalizedHeight: number;
  readonly txPerSecond: number;
  readonly grade1Ms: number | null;
  readonly grade2Ms: number | null;
  readonly mqttRequestsPerSecond: number;
}

/** A validator whose record turned slashed (proven misbehaviour: docs/consensus.md), as this gateway saw it. */
export interface SlashingEvent {
  /** Unix ms when this gateway noticed it. */
  readonly at: number;
  /** Final height at which it was noticed (the slashing block is at or below it). */
  readonly height: number;
  readonly owner: string;
  readonly blsPublicKey: string;
}

type FeedNode = ApiNode & { readonly deviceSightings?: DeviceSightings };

export class DashboardFeed {
  private readonly series: SeriesPoint[] = [];
  private readonly slashings: SlashingEvent[] = [];
  private readonly slashedSeen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private lastMqttRequests: { at: number; total: number } | undefined;
  private registeredDevices = 0;
  private sampling = false;

  constructor(
    private readonly opts: DashboardOptions,
    private readonly deps: {
      readonly node: FeedNode;
      readonly hub: EventStreamHub;
      readonly devices: DeviceDirectory;
      readonly now?: () => number;
    },
  ) {
    // Validators slashed before this gateway started are listed too (as seen at start).
    for (const v of deps.node.state.listValidators()) if (v.slashed) this.noteSlashed(v);
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.opts.sampleMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private noteSlashed(v: { owner: Uint8Array; blsPublicKey: Uint8Array }): void {
    const key = toHex(v.owner);
    if (this.slashedSeen.has(key)) return;
    this.slashedSeen.add(key);
    this.pushSlashing({
      at: this.now(),
      height: this.deps.node.state.height,
      owner: key,
      blsPublicKey: toHex(v.blsPublicKey),
    });
  }

  private pushSlashing(e: SlashingEvent): void {
    this.slashings.push(e);
    if (this.slashings.length > this.opts.slashingEvents) this.slashings.shift();
  }

  /** Everything a page needs on (re)connect: the current view and the series so far. */
  snapshot(withSeries = true): { event: string; data: string } {
    this.registeredDevices = this.deps.devices.total;
    return {
      event: 'snapshot',
      data: toJsonText({ ...this.current(), series: withSeries ? this.series : [] }),
    };
  }

  private current() {
    const { node } = this.deps;
    const s = status(node);
    const now = this.now();
    const sightings = node.deviceSightings;
    return {
      at: now,
      chainId: s.chainId,
      nodeId: s.nodeId,
      shard: 0,
      height: s.height,
      finalizedHeight: s.finalizedHeight,
      view: s.view,
      epoch: s.epoch,
      latestStateBlock: s.latestStateBlock,
      mempool: s.mempool,
      peers: s.peers.length,
      txPerSecond: s.txPerSecond,
      latencyMs: s.latencyMs,
      committee: s.committee,
      slashing: this.slashings,
      devices: {
        registered: this.registeredDevices,
        activeLastMinute: sightings ? sightings.activeSince(now - 60_000) : null,
      },
      mqtt: this.mqtt,
      streams: { clients: this.deps.hub.size, dropped: this.deps.hub.dropped },
    };
  }

  private mqtt: {
    connectedDevices: number;
    requestsPerSecond: number;
    requestsTotal: number;
    refusalsTotal: number;
  } = { connectedDevices: 0, requestsPerSecond: 0, requestsTotal: 0, refusalsTotal: 0 };

  private async readMqtt(now: number): Promise<void> {
    const { metrics } = this.deps.node;
    const registry = metrics.registry;
    const gauge = registry.getSingleMetric('iosnet_mqtt_connected_devices');
    const connected = gauge ? ((await gauge.get()).values[0]?.value ?? 0) : 0;
    const sum = async (name: string) => {
      const m = registry.getSingleMetric(name);
      if (!m) return 0;
      return (await m.get()).values.reduce((a, v) => a + v.value, 0);
    };
    const requestsTotal = await sum('iosnet_mqtt_requests_total');
    const refusalsTotal = await sum('iosnet_mqtt_refusals_total');
    const last = this.lastMqttRequests;
    const rate = last && now > last.at ? ((requestsTotal - last.total) * 1000) / (now - last.at) : 0;
    this.lastMqttRequests = { at: now, total: requestsTotal };
    this.mqtt = {
      connectedDevices: connected,
      requestsPerSecond: Math.round(rate * 10) / 10,
      requestsTotal,
      refusalsTotal,
    };
  }

  /** One sample: read, append to the series, broadcast. Never throws (a failed read skips a tick). */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const now = this.now();
      await this.readMqtt(now);
      for (const v of this.deps.node.state.listValidators()) if (v.slashed) this.noteSlashed(v);
      // Counting devices scans the state (once per final height): only while someone is watching.
      if (this.deps.hub.size > 0) this.registeredDevices = this.deps.devices.total;
      const view = this.current();
      this.series.push({
        t: now,
        height: view.height,
        finalizedHeight: view.finalizedHeight,
        txPerSecond: view.txPerSecond,
        grade1Ms: view.latencyMs.grade1.p50,
        grade2Ms: view.latencyMs.grade2.p50,
        mqttRequestsPerSecond: view.mqtt.requestsPerSecond,
      });
      if (this.series.length > this.opts.seriesLength) this.series.shift();
      if (this.deps.hub.size > 0) {
        this.deps.hub.broadcast('tick', toJsonText({ ...view, point: this.series.at(-1) }));
      }
    } catch (e) {
      this.deps.node.log.warn('dashboard sample failed', {
        error: e instanceof Error ? e.message : String(e),
      });
    } finally {
      this.sampling = false;
    }
  }
}
