/**
 * The device light client runs on Node 18, the Node boards have: device/client.ts bundled as images bundle
 * it (flash-scripts/bundle.ts, target node18) replays sessions recorded on the host (honest sync and
 * queries, and each attack the device must catch) and must reach the same outcomes on the host's Node 20
 * and on Debian's Node 18 for x64 (chroot, scripts/node18).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleForDevice } from '../../flash-scripts/bundle.js';
import { recordDeviceSessions } from '../helpers/device-replay.js';
import { run } from '../helpers/process.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const node18 = join(repo, 'scripts', 'node18');
let dir: string;
let expected: Record<string, unknown[]>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iosnet-device-node18-'));
  const recorded = await recordDeviceSessions();
  expected = recorded.expected;
  writeFileSync(join(dir, 'device-scenarios.json'), JSON.stringify(recorded.scenarios));
  const bundle = await bundleForDevice({
    entry: join(repo, 'test/system/fixtures/device-client-check.ts'),
    target: 'node18',
  });
  writeFileSync(join(dir, 'check.mjs'), bundle.code);
  const prep = await run(join(repo, 'scripts', 'prepare-sysroots.sh'), ['x64', '--quiet'], {
    timeoutMs: 600_000,
  });
  expect(prep.code, prep.stderr).toBe(0);
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function runCheck(
  cmd: string,
  args: string[],
): Promise<{ node: string; results: Record<string, unknown[]> }> {
  const r = await run(cmd, [...args, join(dir, 'check.mjs')], { timeoutMs: 240_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    node: string;
    results: Record<string, unknown[]>;
  };
}

describe('device light client on Node 18', () => {
  it('records the expected outcomes on the host', () => {
    expect(expected).toEqual({
      honest: [{ ok: 4 }, { ok: '5000000:0' }, { ok: true }],
      forgedStateBlock: [{ error: 'DEVICE_STATE_BLOCK_FORGED' }],
      underSigned: [{ error: 'DEVICE_STATE_BLOCK_UNDERSIGNED' }],
      unsignedTransition: [{ error: 'DEVICE_TRANSITION_UNSIGNED' }],
      lyingBalance: [{ ok: 4 }, { error: 'DEVICE_PROOF_INVALID' }],
      staleProof: [{ ok: 5 }, { error: 'DEVICE_PROOF_STALE' }],
      hiddenTx: [{ ok: 4 }, { ok: 0 }, { error: 'DEVICE_TX_HIDDEN' }],
      grade2: [{ ok: 4 }, { ok: 0 }, { ok: 2 }],
    });
  });

  it('on the host Node 20 (bundled)', async () => {
    const { node, results } = await runCheck(process.execPath, []);
    expect(node).toBe(process.version);
    expect(results).toEqual(expected);
  }, 300_000);

  it('on Debian Node 18 (x64)', async () => {
    const { node, results } = await runCheck(node18, ['--arch', 'x64', '--bind', dir, '--']);
    expect(node).toMatch(/^v18\./);
    expect(results).toEqual(expected);
  }, 300_000);
});
