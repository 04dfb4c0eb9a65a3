/** `iosnet devnet` (= `npm start`): a local devnet of gateway processes with load and a live status. */
import { resolve } from 'node:path';
import { formatIost } from '../../core/token.js';
import { type DevnetSummary, runDevnet } from '../devnet/run.js';
import { formatMs } from '../devnet/screen.js';
import { defineCommand, UsageError } from './command.js';
import { cliCrypto } from './crypto.js';

const USAGE = `usage: iosnet devnet [--dir DIR] [--fresh] [--validators N] [--tps N] [--devices N] [--duration S] [--no-status]

Runs a local devnet: N gateways, each its own process (logs in DIR/gateway-*.log), a load generator that
funds accounts from the private-sale bucket and sends transfers at --tps spread over the gateways, and a
live status (heights, views, peers, mempools, tx/s, grade-1/grade-2 latency, the committee, the devices).
Light-client devices (DIR/devices/, logs in DIR/devices/device-*.log) run \`iosnet device run\` against
gateway-1's embedded MQTT broker: key on first boot, registered by the community-incentives key, verified
sync, a small transfer every few seconds followed to grade 2 by proof. Ctrl-C stops the load, the devices,
then every gateway, prints a summary and exits 0. The files in DIR are reused (same keys, genesis
and chain) unless --fresh.

options:
  --dir DIR          devnet directory (default .devnet)
  --fresh            delete DIR first: a new genesis and chain
  --validators N     gateways, all validators (default 4)
  --tps N            transfers per second (default 100; 0: no load)
  --devices N        light-client devices over MQTT (default 3; 0: none)
  --duration S       stop after S seconds
  --no-status        no live status (only start-up lines and the summary)
  -h, --help         show this help`;

function intOption(
  text: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,7}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  }
  return Number(text);
}

function printSummary(s: DevnetSummary): void {
  const l = s.load;
  const refused = l ? Object.values(l.refused).reduce((a, b) => a + b, 0) : 0;
  console.log('');
  console.log(
    `devnet summary (${s.chainId}, ran ${(s.runMs / 1000).toFixed(1)} s, start-up ${s.startupMs} ms)`,
  );
  console.log(
    `  finalized      height ${s.finalizedHeight}; ${s.finalizedBlocks} blocks and ${s.finalizedTxs} transactions during this run`,
  );
  if (l) {
    const codes = Object.entries(l.refused)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    console.log(
      `  load           sent ${l.sent}, admitted ${l.admitted}, refused ${refused}${codes ? ` (${codes})` : ''}, transport errors ${l.transportErrors}`,
    );
  }
  console.log(
    `  latency        grade 1 p50 ${formatMs(s.latencyMs.grade1.p50)} p99 ${formatMs(s.latencyMs.grade1.p99)}; grade 2 p50 ${formatMs(s.latencyMs.grade2.p50)} p99 ${formatMs(s.latencyMs.grade2.p99)}`,
  );
  console.log(
    `  supply         ${s.supply ? `${formatIost(BigInt(s.supply.totalSupply))} IOST (${s.supply.intact ? 'intact' : 'VIOLATED'})` : 'unknown (no gateway answered)'}`,
  );
  for (const g of s.gateways) {
    const exit = g.exit ? (g.exit.signal ?? `exit ${g.exit.code}`) : 'still running?';
    console.log(`  ${g.name.padEnd(13)}  pid ${g.pid}, final height ${g.finalizedHeight ?? '-'}, ${exit}`);
  }
  for (const d of s.devices) {
    const exit = d.exit ? (d.exit.signal ?? `exit ${d.exit.code}`) : 'still running?';
    console.log(
      `  ${d.name.padEnd(13)}  pid ${d.pid ?? '-'}, state block ${d.stateBlockIndex ?? '-'}, balance ${d.balance ?? '-'}, ${d.txs} txs (last grade ${d.lastGrade ?? '-'}), ${exit}`,
    );
  }
  for (const e of s.events) console.log(`  event          ${e}`);
  // One machine-readable line for scripts and tests.
  console.log(`summary ${JSON.stringify(s)}`);
}

export const command = defineCommand({
  usage: USAGE,
  options: {
    dir: { type: 'string' },
    fresh: { type: 'boolean' },
    validators: { type: 'string' },
    tps: { type: 'string' },
    devices: { type: 'string' },
    duration: { type: 'string' },
    'no-status': { type: 'boolean' },
  },
  async run({ values }) {
    const summary = await runDevnet(
      cliCrypto(),
      {
        dir: resolve(values.dir ?? '.devnet'),
        fresh: values.fresh === true,
        validators: intOption(values.validators, 'validators', 4, 1, 64),
        tps: intOption(values.tps, 'tps', 100, 0, 100_000),
        devices: intOption(values.devices, 'devices', 3, 0, 100),
        ...(values.duration !== undefined
          ? { durationS: intOption(values.duration, 'duration', 0, 1, 1e6) }
          : {}),
        status: values['no-status'] !== true,
      },
      {
        write: (t) => process.stdout.write(t),
        isTTY: process.stdout.isTTY === true,
        columns: process.stdout.columns ?? 120,
      },
    );
    printSummary(summary);
    const failed =
      summary.gateways.some((g) => g.exit === null) || summary.devices.some((d) => d.exit === null);
    // Keep-alive sockets of the API client must not hold the exit.
    process.exit(failed ? 1 : 0);
  },
});
