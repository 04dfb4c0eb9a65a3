/**
 * `iosnet devnet` end to end: four gateway processes, load at 50 tx/s for 20 s, then a clean stop. Checks
 * that it exits by itself with 0, that blocks with transactions were finalized, that the total supply is
 * intact (through the API while running, and again from a gateway's database afterwards), and that no
 * gateway process survives.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { decodeGenesis } from '../../core/genesis.js';
import { TOTAL_SUPPLY } from '../../core/token.js';
import { ConsensusHooks } from '../../gateway/consensus/hooks.js';
import { createNativeCrypto } from '../../gateway/crypto/native.js';
import { openDatabase } from '../../gateway/db/lmdb.js';
import type { DevnetSummary } from '../../gateway/devnet/run.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';
import { LmdbChainState } from '../../gateway/state/chain-state.js';
import { run } from '../helpers/process.js';

const BIN = join(import.meta.dirname, '../../bin/iosnet.js');
const dir = mkdtempSync(join(tmpdir(), 'iosnet-devnet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('devnet: 4 gateways, 50 tx/s for 20 s, clean stop, supply intact, no orphans', {
  timeout: 110_000,
}, async () => {
  const started = Date.now();
  const r = await run(
    process.execPath,
    [BIN, 'devnet', '--dir', dir, '--validators', '4', '--tps', '50', '--duration', '20', '--no-status'],
    { timeoutMs: 100_000 },
  );
  const elapsed = Date.now() - started;
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const line = r.stdout.split('\n').find((l) => l.startsWith('summary '));
  expect(line).toBeDefined();
  const s = JSON.parse(line!.slice('summary '.length)) as DevnetSummary;

  expect(s.gateways).toHaveLength(4);
  for (const g of s.gateways) {
    expect(g.exit).toEqual({ code: 0, signal: null });
    expect(alive(g.pid)).toBe(false);
  }
  expect(s.finalizedBlocks).toBeGreaterThan(20);
  expect(s.finalizedTxs).toBeGreaterThan(200);
  expect(s.load!.admitted).toBeGreaterThan(500);
  expect(s.supply).toEqual({ totalSupply: TOTAL_SUPPLY.toString(), intact: true });
  expect(s.latencyMs.grade2.p50).not.toBeNull();
  // Every gateway reached the same final height, give or take the block in flight when it stopped.
  const heights = s.gateways.map((g) => g.finalizedHeight!);
  expect(Math.max(...heights) - Math.min(...heights)).toBeLessThanOrEqual(1);
  expect(elapsed).toBeLessThan(60_000);

  // From gateway-1's database, without the API: supply and the funder's nonce (it funded the load).
  const crypto = createNativeCrypto();
  const genesis = decodeGenesis(new Uint8Array(readFileSync(join(dir, 'genesis.cbor'))));
  const db = openDatabase({ path: join(dir, 'gateway-1', 'db') });
  try {
    const hooks = new ConsensusHooks({ crypto });
    hooks.setGenesis(genesis);
    const state = new LmdbChainState({}, { db, crypto, genesis, hooks });
    expect(state.totalSupply()).toBe(TOTAL_SUPPLY);
    expect(state.height).toBeGreaterThanOrEqual(s.gateways[0]!.finalizedHeight!);
    const funder = readKeyFile(join(dir, 'keys', 'privateSale.key.json'), crypto).key;
    expect(state.getAccount(funder.address).nonce).toBe(s.load!.accounts);
    await state.close();
  } finally {
    await db.close();
  }
});
