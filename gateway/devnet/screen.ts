/**
 * The devnet's live status: one screen redrawn in place every second with plain ANSI (cursor home, clear to
 * end of line and of screen; no dependency), or, when stdout is not a terminal, one line every few
 * seconds. Rendering is a pure function of a snapshot, so it is tested without a terminal.
 */
import { formatIost } from '../../core/token.js';
import type { StatusView } from '../api/client.js';
import type { LoadStats } from '../load/generator.js';
import type { DeviceView } from './devices.js';

export interface GatewaySnapshot {
  readonly name: string;
  readonly pid: number;
  /** null while unreachable. */
  readonly status: StatusView | null;
  readonly exit: { code: number | null; signal: string | null } | null;
}

export interface DevnetSnapshot {
  readonly chainId: string;
  readonly dir: string;
  readonly uptimeMs: number;
  readonly targetTps: number;
  readonly load: LoadStats | null;
  readonly gateways: readonly GatewaySnapshot[];
  /** Light-client devices, as their own (verified) events tell (absent: none). */
  readonly devices?: readonly DeviceView[];
  readonly events: readonly string[];
  /** The dashboard page of the first gateway (shown under the title: a terminal screen hides earlier lines). */
  readonly dashboardUrl?: string;
}

const pad = (s: string | number, n: number) => String(s).padEnd(n);
const lpad = (s: string | number, n: number) => String(s).padStart(n);

export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${Math.round(ms)}ms`;
}

function uptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** Network-wide figures: tx/s from any live gateway (all finalize the same blocks), latencies combined. */
export function networkFigures(gateways: readonly GatewaySnapshot[]) {
  const live = gateways.map((g) => g.status).filter((s): s is StatusView => s !== null);
  const pick = (grade: 'grade1' | 'grade2', p: 'p50' | 'p99') =>
    live.map((s) => s.latencyMs[grade][p]).filter((x): x is number => x !== null);
  return {
    txPerSecond: live.length > 0 ? Math.max(...live.map((s) => s.txPerSecond)) : 0,
    grade1: { p50: median(pick('grade1', 'p50')), p99: max(pick('grade1', 'p99')) },
    grade2: { p50: median(pick('grade2', 'p50')), p99: max(pick('grade2', 'p99')) },
    finalizedHeight: live.length > 0 ? Math.max(...live.map((s) => s.finalizedHeight)) : 0,
  };
}

function max(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : Math.max(...xs);
}

function loadLine(snap: DevnetSnapshot): string {
  const l = snap.load;
  if (!l) return `load     funding accounts... (target ${snap.targetTps} tx/s)`;
  const refused = Object.entries(l.refused)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `load     target ${snap.targetTps} tx/s over ${l.accounts} accounts: sent ${l.sent}, admitted ${l.admitted}, refused ${Object.values(
    l.refused,
  ).reduce(
    (a, b) => a + b,
    0,
  )}${refused ? ` (${refused})` : ''}${l.transportErrors ? `, transport errors ${l.transportErrors}` : ''}`;
}

function ppmPercent(ppm: string): string {
  return `${(Number(ppm) / 10_000).toFixed(1)}%`;
}

export function renderScreen(snap: DevnetSnapshot): string[] {
  const net = networkFigures(snap.gateways);
  const lines: string[] = [];
  lines.push(
    `iosnet devnet  ${snap.chainId}  ${snap.gateways.length} gateways  up ${uptime(snap.uptimeMs)}  (Ctrl-C stops; logs in ${snap.dir})`,
  );
  if (snap.dashboardUrl) lines.push(`dashboard ${snap.dashboardUrl}`);
  lines.push(loadLine(snap));
  lines.push(
    `network  ${net.txPerSecond.toFixed(1)} tx/s final   grade 1 p50 ${formatMs(net.grade1.p50)} p99 ${formatMs(net.grade1.p99)}   grade 2 p50 ${formatMs(net.grade2.p50)} p99 ${formatMs(net.grade2.p99)}`,
  );
  lines.push('');
  lines.push(
    `${pad('gateway', 11)}${pad('pid', 8)}${lpad('height', 7)}${lpad('final', 7)}${lpad('view', 6)}${lpad('epoch', 6)}${lpad('peers', 6)}${lpad('mempool', 9)}${lpad('tx/s', 8)}   ${pad('g1 p50/p99', 16)}${pad('g2 p50/p99', 16)}`,
  );
  for (const g of snap.gateways) {
    const s = g.status;
    if (!s) {
      const why = g.exit
        ? `EXITED (${g.exit.signal ?? `code ${g.exit.code}`}), see ${g.name}.log`
        : 'not answering';
      lines.push(`${pad(g.name, 11)}${pad(g.pid, 8)}${why}`);
      continue;
    }
    const l = s.latencyMs;
    lines.push(
      `${pad(g.name, 11)}${pad(g.pid, 8)}${lpad(s.height, 7)}${lpad(s.finalizedHeight, 7)}${lpad(s.view, 6)}${lpad(s.epoch, 6)}${lpad(s.peers.length, 6)}${lpad(s.mempool.size, 9)}${lpad(s.txPerSecond.toFixed(1), 8)}   ${pad(`${formatMs(l.grade1.p50)}/${formatMs(l.grade1.p99)}`, 16)}${pad(`${formatMs(l.grade2.p50)}/${formatMs(l.grade2.p99)}`, 16)}`,
    );
  }
  const source = snap.gateways.find((g) => g.status !== null);
  if (source?.status) {
    lines.push('');
    lines.push(`committee of epoch ${source.status.epoch} (from ${source.name})`);
    lines.push(
      `${lpad('#', 3)}  ${pad('owner', 14)}${lpad('weight', 10)}${lpad('believ.', 10)}${lpad('stake IOST', 14)}${lpad('servi', 7)}${lpad('reput.', 8)}${lpad('review', 8)}${lpad('behav.', 8)}${lpad('done', 6)}${lpad('missed', 7)}  league`,
    );
    for (const m of source.status.committee) {
      const owner = m.owner ? `${m.owner.slice(0, 6)}..${m.owner.slice(-4)}` : '?';
      lines.push(
        `${lpad(m.index, 3)}  ${pad(owner, 14)}${lpad(m.weight, 10)}${lpad(m.believability, 10)}${lpad(formatIost(BigInt(m.stake)).split('.')[0]!, 14)}${lpad(m.servi, 7)}${lpad(ppmPercent(m.reputationPpm), 8)}${lpad(ppmPercent(m.reviewPpm), 8)}${lpad(ppmPercent(m.behaviourPpm), 8)}${lpad(m.done, 6)}${lpad(m.missed, 7)}  ${m.slashed ? 'SLASHED' : m.league ? '*' : ''}`,
      );
    }
  }
  if (snap.devices && snap.devices.length > 0) {
    lines.push('');
    lines.push(...deviceLines(snap.devices));
  }
  if (snap.events.length > 0) {
    lines.push('');
    lines.push('events');
    for (const e of snap.events.slice(-5)) lines.push(`  ${e}`);
  }
  return lines;
}

/** The devices table: what each light client has proven (state block, balance) and its last transaction. */
export function deviceLines(devices: readonly DeviceView[]): string[] {
  const lines = [
    `${pad('device', 10)}${pad('id', 14)}${pad('pid', 8)}${pad('link', 6)}${lpad('sb', 5)}${lpad('epoch', 6)}${lpad('balance', 12)}${lpad('txs', 5)}  last tx`,
  ];
  for (const d of devices) {
    const id = d.identityHash ? `${d.identityHash.slice(0, 6)}..${d.identityHash.slice(-4)}` : '?';
    const link = d.exit ? 'EXIT' : d.connected ? 'up' : 'down';
    const last = d.lastTx ? `grade ${d.lastTx.grade} in ${formatMs(d.lastTx.ms)}` : '-';
    const err =
      d.lastError && d.txErrors + d.rejected > 0 ? `  (${d.txErrors + d.rejected} err: ${d.lastError})` : '';
    lines.push(
      `${pad(d.name, 10)}${pad(id, 14)}${pad(d.pid ?? '-', 8)}${pad(link, 6)}${lpad(d.stateBlockIndex ?? '-', 5)}${lpad(d.epoch ?? '-', 6)}${lpad(d.balance === null ? '-' : d.balance.toString(), 12)}${lpad(d.txs, 5)}  ${last}${err}`,
    );
  }
  return lines;
}

/** One frame: cursor home, each line cleared to its end, then the rest of the screen cleared. */
export function frame(lines: readonly string[], columns: number): string {
  return `\x1b[H${lines.map((l) => `${l.slice(0, Math.max(20, columns - 1))}\x1b[K`).join('\n')}\n\x1b[J`;
}

/** The non-terminal form: one line. */
export function statusLine(snap: DevnetSnapshot): string {
  const net = networkFigures(snap.gateways);
  const heights = snap.gateways
    .map((g) => (g.status ? g.status.finalizedHeight : g.exit ? 'x' : '?'))
    .join('/');
  const l = snap.load;
  const devices = snap.devices?.length
    ? `  devices ${snap.devices.map((d) => `sb ${d.stateBlockIndex ?? '-'} tx ${d.txs}${d.lastTx ? `/g${d.lastTx.grade}` : ''}`).join(', ')}`
    : '';
  return `[${uptime(snap.uptimeMs)}] final ${heights}  ${net.txPerSecond.toFixed(1)} tx/s  g1 p50 ${formatMs(net.grade1.p50)}  g2 p50 ${formatMs(net.grade2.p50)}${
    l ? `  sent ${l.sent} admitted ${l.admitted}` : '  funding'
  }${devices}`;
}
