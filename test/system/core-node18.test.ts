/**
 * core runs on Node 18, the Node that Debian 12 and Raspberry Pi OS boards ship: core's light-client
 * surface, bundled exactly as device images bundle it (flash-scripts/bundle.ts, target node18), verifies
 * the same scenarios with the same results on the host's Node 20 and on Debian's Node 18 for x64
 * (chroot), arm64 and armhf (qemu-user).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../core/bytes.js';
import { encodeCommittee } from '../../core/committee.js';
import { merkleProof } from '../../core/merkle.js';
import { encodeStateProof, encodeTxInclusionProof } from '../../core/proofs.js';
import { MemorySmtStore, SparseMerkleTree } from '../../core/smt-store.js';
import { type AccountState, encodeAccount, stateKey, stateValueHash } from '../../core/state.js';
import { encodeStateBlock } from '../../core/state-block.js';
import { encodeTx } from '../../core/tx.js';
import { bundleForDevice } from '../../flash-scripts/bundle.js';
import {
  makeBlock,
  makeCommittee,
  makeFinalityCertificate,
  makeStateBlock,
  signCollective,
} from '../helpers/chain.js';
import { testCrypto as crypto } from '../helpers/crypto.js';
import { ed25519Key } from '../helpers/keys.js';
import { run } from '../helpers/process.js';
import { makeTx } from '../helpers/tx.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const node18 = join(repo, 'scripts', 'node18');
let dir: string;

/** Scenarios with the results every Node must print for them. */
function buildScenarios(): { scenarios: Record<string, string>; expected: Record<string, unknown> } {
  const c1 = makeCommittee({ epoch: 1, label: 'n18' });
  const c2 = makeCommittee({ epoch: 2, label: 'n18-next' });
  const attacker = makeCommittee({ epoch: 1, label: 'n18-attacker' });
  const sb = makeStateBlock(c1, { index: 3 });
  const forged = { ...sb.stateBlock, signature: signCollective(attacker, sb.id, [0, 1, 2, 3]) };
  const transition = makeStateBlock(c1, { index: 4, nextCommittee: c2.hash });

  const store = new MemorySmtStore();
  const tree = new SparseMerkleTree(store, crypto);
  const address = ed25519Key('n18/alice').address;
  const account: AccountState = {
    balance: 4_200_000_000n,
    nonce: 3,
    staked: 0n,
    unbonding: 0n,
    unbondingEpoch: 0,
    locked: 0n,
  };
  const others = Array.from({ length: 50 }, (_, i) => ed25519Key(`n18/other/${i}`).address);
  const batch = tree.applyBatch(null, 1, [
    [stateKey(crypto, 'account', address), stateValueHash(crypto, encodeAccount(account))],
    ...others.map((a, i): [Uint8Array, Uint8Array] => [
      stateKey(crypto, 'account', a),
      stateValueHash(crypto, encodeAccount({ ...account, balance: BigInt(i) })),
    ]),
  ]);
  store.commit(1, batch);
  const proof = tree.prove(1, stateKey(crypto, 'account', address));
  const lying = encodeAccount({ ...account, balance: 10n ** 17n });

  const txs = Array.from({ length: 3 }, (_, i) => makeTx('transfer', { nonce: i }).tx);
  const { block, txIds } = makeBlock(c1, txs);
  const inclusion = encodeTxInclusionProof({
    header: block.header,
    proof: merkleProof(crypto, txIds, 1),
    certificate: makeFinalityCertificate(c1, block.header),
  });

  // The device signs a body it built itself; the signature must equal the host's byte for byte.
  const signed = makeTx('transfer', { nonce: 7 });
  const template = { ...signed.tx, signatures: [new Uint8Array(64)] };
  // Widen the nonce (7: the one byte 0x07) to the non-shortest two-byte form 0x18 0x07.
  const nonceAt = findNonce(signed.bytes);
  const widened = new Uint8Array([
    ...signed.bytes.subarray(0, nonceAt),
    0x18,
    ...signed.bytes.subarray(nonceAt),
  ]);

  return {
    scenarios: {
      committee: toHex(encodeCommittee(c1.committee)),
      stateBlock: toHex(encodeStateBlock(sb.stateBlock)),
      forgedStateBlock: toHex(encodeStateBlock(forged)),
      transition: toHex(encodeStateBlock(transition.stateBlock)),
      nextCommittee: toHex(encodeCommittee(c2.committee)),
      stateRoot: toHex(batch.root),
      address: toHex(address),
      accountProof: toHex(
        encodeStateProof({ namespace: 'account', id: address, record: encodeAccount(account), proof }),
      ),
      lyingProof: toHex(encodeStateProof({ namespace: 'account', id: address, record: lying, proof })),
      txId: toHex(txIds[1]!),
      inclusion: toHex(inclusion),
      unsignedTemplate: toHex(encodeTx(template)),
      senderSeed: toHex(ed25519Key('alice').secretKey),
      nonCanonicalTx: toHex(widened),
    },
    expected: {
      stateBlock: { ok: toHex(sb.id) },
      forgedStateBlock: { error: 'VERIFY_BAD_SIGNATURE' },
      transition: { ok: 2 },
      account: { ok: '4200000000' },
      lyingAccount: { error: 'VERIFY_PROOF_INVALID' },
      txGrade: { ok: 2 },
      signedTx: { ok: toHex(signed.bytes) },
      nonCanonical: { error: 'DECODE_NON_CANONICAL' },
    },
  };
}

/** Offset of the nonce in an encoded tx (docs/protocol.md §6): 0x84 0x01 0x01, body 0x87, chainId (short
 * text), kind (one byte), sender 0x58 0x20 + 32 bytes, then the nonce. */
function findNonce(bytes: Uint8Array): number {
  const chainLen = bytes[4]! & 0x1f;
  return 5 + chainLen + 1 + 2 + 32;
}

let scenarios: ReturnType<typeof buildScenarios>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iosnet-node18-'));
  scenarios = buildScenarios();
  writeFileSync(join(dir, 'scenarios.json'), JSON.stringify(scenarios.scenarios));
  const bundle = await bundleForDevice({
    entry: join(repo, 'test/system/fixtures/light-client-check.ts'),
    target: 'node18',
  });
  writeFileSync(join(dir, 'check.mjs'), bundle.code);
  const prep = await run(join(repo, 'scripts', 'prepare-sysroots.sh'), ['all', '--quiet'], {
    timeoutMs: 600_000,
  });
  expect(prep.code, prep.stderr).toBe(0);
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function runCheck(cmd: string, args: string[]): Promise<Record<string, unknown>> {
  const r = await run(cmd, [...args, join(dir, 'check.mjs')], { timeoutMs: 240_000 });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe('core light-client surface on Node 18', () => {
  it('on the host Node 20', async () => {
    const { node, ...results } = await runCheck(process.execPath, []);
    expect(node).toBe(process.version);
    expect(results).toEqual(scenarios.expected);
  });

  it.each(['x64', 'arm64', 'armhf'])(
    'on Debian Node 18 (%s)',
    async (arch) => {
      const { node, ...results } = await runCheck(node18, ['--arch', arch, '--bind', dir, '--']);
      expect(node).toMatch(/^v18\./);
      expect(results).toEqual(scenarios.expected);
    },
    300_000,
  );
});
