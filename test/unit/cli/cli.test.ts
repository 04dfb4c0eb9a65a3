/**
 * The iosnet CLI end to end: each case runs `node bin/iosnet.js ...` as a child process (tsx start-up
 * included), checks its output and exit code, and cross-checks results with core functions.
 */
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeBlock } from '../../../core/block.js';
import { concatBytes, toHex } from '../../../core/bytes.js';
import { CborWriter } from '../../../core/cbor.js';
import {
  type Committee,
  committeeHash,
  encodeCommittee,
  leagueIndexes,
  makeBitmap,
  sortMembers,
} from '../../../core/committee.js';
import type { Crypto } from '../../../core/crypto.js';
import { createPortableCrypto } from '../../../core/crypto-portable.js';
import { decodeGenesis, genesisHash, validateGenesis } from '../../../core/genesis.js';
import {
  type BlockHeaderFields,
  blockIdOf,
  encodeBlockHeader,
  encodeFinalityCertificate,
  VotePhase,
  voteMessage,
} from '../../../core/header.js';
import { addressOf, deviceIdentityHash } from '../../../core/identity.js';
import { merkleProof, merkleRoot } from '../../../core/merkle.js';
import { encodeStateProof, encodeTxInclusionProof } from '../../../core/proofs.js';
import { packSmtProof } from '../../../core/smt.js';
import { EMPTY_ACCOUNT, encodeAccount, stateKey, stateValueHash } from '../../../core/state.js';
import {
  encodeStateBlock,
  type StateBlockFields,
  stateBlockIdOf,
  ZERO_HASH,
} from '../../../core/state-block.js';
import { IOST_UNIT, TOTAL_SUPPLY, TOTAL_SUPPLY_IOST } from '../../../core/token.js';
import { encodeTx, signTx, type Transaction, type TxBody, TxKind } from '../../../core/tx.js';
import { generateKeyFile, readKeyFile, writeKeyFile } from '../../../gateway/keys/keyfile.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/iosnet.js', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, IOSNET_DEBUG: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Each spawn pays tsx's start-up; running a few at once keeps the suite short on a 2-core machine. */
async function runAll(runs: readonly (readonly string[])[], concurrency = 4): Promise<CliResult[]> {
  const results: CliResult[] = new Array(runs.length);
  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const i = next++;
      results[i] = await runCli(runs[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, runs.length) }, worker));
  return results;
}

/** The error contract: exactly one line on stderr, `iosnet <cmd>: ...`, no stack, nothing on stdout. */
function expectOneLineError(r: CliResult, prefix: string, exitCode: number, pattern?: RegExp): void {
  const context = JSON.stringify(r);
  expect(r.code, context).toBe(exitCode);
  expect(r.stdout, context).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, context).toHaveLength(1);
  expect(lines[0]!.startsWith(`${prefix}: `), context).toBe(true);
  expect(r.stderr, context).not.toMatch(/^\s+at /m);
  if (pattern) expect(lines[0], context).toMatch(pattern);
}

// ---- fixtures ----

const crypto: Crypto = createPortableCrypto((n) => randomFillSync(new Uint8Array(n)));
const CHAIN_ID = 'iosnet-test';

function seed(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

/** A BLS secret key: a small valid scalar (big-endian), distinct per i. */
function blsSecretKey(i: number): Uint8Array {
  const sk = new Uint8Array(32);
  sk[31] = i + 1;
  sk[30] = 0x5a;
  return sk;
}

function transferBody(nonce: number, fee = 23n): TxBody {
  const sender = crypto.ed25519.getPublicKey(seed(1));
  return {
    chainId: CHAIN_ID,
    sender,
    nonce,
    expiry: 1_700_000_600_000,
    fee,
    payload: {
      kind: 'transfer',
      to: addressOf(crypto, crypto.ed25519.getPublicKey(seed(2))),
      amount: 5_00000000n,
      memo: new Uint8Array(),
    },
  };
}

function signedTransfer(nonce: number): { tx: Transaction; id: Uint8Array; bytes: Uint8Array } {
  const { tx, id } = signTx(crypto, transferBody(nonce), [seed(1)]);
  return { tx, id, bytes: encodeTx(tx) };
}

/** Offset of tx.fee in an encoded transfer (the byte the non-canonical test rewrites). */
function feeOffset(body: TxBody): number {
  const w = new CborWriter();
  w.array(4).uint(1).uint(1).array(7).text(body.chainId).uint(TxKind.transfer).bytes(body.sender);
  w.uint(body.nonce).uint(body.expiry);
  return w.finish().length;
}

interface Fixtures {
  readonly tx: Uint8Array;
  readonly txId: Uint8Array;
  readonly txBadSignature: Uint8Array;
  readonly txNonCanonicalFee: Uint8Array;
  readonly feeOffset: number;
  readonly committee: Uint8Array;
  readonly committeeHash: Uint8Array;
  readonly block: Uint8Array;
  readonly blockBadTxSignature: Uint8Array;
  readonly blockId: Uint8Array;
  readonly header: Uint8Array;
  readonly stateBlock: Uint8Array;
  readonly stateBlockId: Uint8Array;
  readonly certificate: Uint8Array;
  readonly txInclusionProof: Uint8Array;
  readonly stateProof: Uint8Array;
}

function flipLastByte(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out[out.length - 1]! ^= 0x01;
  return out;
}

function buildFixtures(): Fixtures {
  const t1 = signedTransfer(0);
  const t2 = signedTransfer(1);
  const body = transferBody(0);
  const off = feeOffset(body);
  if (t1.bytes[off] !== 0x17) throw new Error('fixture: fee is not where expected');

  const sks = [0, 1, 2].map(blsSecretKey);
  const pkToSk = new Map(sks.map((sk) => [crypto.bls.getPublicKey(sk).join(','), sk]));
  const members = sortMembers(
    sks.map((sk, i) => ({ blsPublicKey: crypto.bls.getPublicKey(sk), weight: 10 + i })),
  );
  const orderedSks = members.map((m) => pkToSk.get(m.blsPublicKey.join(','))!);
  const committee: Committee = { chainId: CHAIN_ID, shard: 0, epoch: 3, leagueSize: 2, members };
  const collective = (message: Uint8Array) => ({
    signers: makeBitmap(3, [0, 1, 2]),
    signature: crypto.bls.aggregateSignatures(orderedSks.map((sk) => crypto.bls.sign(message, sk)))!,
  });

  const fields: BlockHeaderFields = {
    chainId: CHAIN_ID,
    shard: 0,
    height: 7,
    epoch: 3,
    view: 0,
    parent: new Uint8Array(32).fill(9),
    txRoot: merkleRoot(crypto, [t1.id, t2.id]),
    stateRoot: new Uint8Array(32).fill(8),
    proposer: leagueIndexes(committee)[0]!,
    time: 1_700_000_000_000,
    txCount: 2,
    lastCommit: new Uint8Array(32),
  };
  const blockId = blockIdOf(crypto, fields);
  const header = { ...fields, proposerSignature: crypto.bls.sign(blockId, orderedSks[fields.proposer]!) };
  const badTx = { ...t2.tx, signatures: [flipLastByte(t2.tx.signatures[0]!)] };

  const sbFields: StateBlockFields = {
    chainId: CHAIN_ID,
    shard: 0,
    epoch: 3,
    index: 0,
    fromHeight: 0,
    toHeight: 15,
    stateRoot: new Uint8Array(32).fill(7),
    previous: ZERO_HASH,
    committee: committeeHash(crypto, committee),
    nextCommittee: committeeHash(crypto, committee),
  };
  const stateBlockId = stateBlockIdOf(crypto, sbFields);
  const certificate = {
    blockId,
    shard: 0,
    height: 7,
    epoch: 3,
    view: 0,
    signature: collective(voteMessage(crypto, VotePhase.commit, 0, blockId)),
  };
  // A one-account state: the tree is that account's leaf, so the proof has no siblings.
  const accountId = addressOf(crypto, crypto.ed25519.getPublicKey(seed(1)));
  const accountRecord = encodeAccount({ ...EMPTY_ACCOUNT, balance: 42n, nonce: 2 });
  const accountProof = packSmtProof([], {
    key: stateKey(crypto, 'account', accountId),
    valueHash: stateValueHash(crypto, accountRecord),
  });

  return {
    tx: t1.bytes,
    txId: t1.id,
    txBadSignature: encodeTx({ ...t1.tx, signatures: [flipLastByte(t1.tx.signatures[0]!)] }),
    txNonCanonicalFee: concatBytes(
      t1.bytes.subarray(0, off),
      Uint8Array.of(0x18, 0x17),
      t1.bytes.subarray(off + 1),
    ),
    feeOffset: off,
    committee: encodeCommittee(committee),
    committeeHash: committeeHash(crypto, committee),
    block: encodeBlock({ header, txs: [t1.tx, t2.tx], lastCommit: null }),
    blockBadTxSignature: encodeBlock({ header, txs: [t1.tx, badTx], lastCommit: null }),
    blockId,
    header: encodeBlockHeader(header),
    stateBlock: encodeStateBlock({ ...sbFields, signature: collective(stateBlockId) }),
    stateBlockId,
    certificate: encodeFinalityCertificate(certificate),
    txInclusionProof: encodeTxInclusionProof({
      header,
      proof: merkleProof(crypto, [t1.id, t2.id], 1),
      certificate,
    }),
    stateProof: encodeStateProof({
      namespace: 'account',
      id: accountId,
      record: accountRecord,
      proof: accountProof,
    }),
  };
}

// ---- tests ----

let dir: string;
let fx: Fixtures;
const file = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iosnet-cli-'));
  fx = buildFixtures();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function parseJson(r: CliResult): Record<string, unknown> {
  expect(r.code, JSON.stringify(r)).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('iosnet CLI', () => {
  test('help and usage', async () => {
    const [top, sub, subWord] = await runAll([['--help'], ['decode', '--help'], ['help', 'genesis']]);
    expect(top!.code).toBe(0);
    for (const name of ['keygen', 'identity', 'genesis', 'decode']) expect(top!.stdout).toContain(name);
    expect(sub!.code).toBe(0);
    expect(sub!.stdout).toContain('usage: iosnet decode');
    expect(subWord!.code).toBe(0);
    expect(subWord!.stdout).toContain('usage: iosnet genesis');
  });

  test('keygen writes a 0600 key file, refuses to overwrite, --force replaces it', async () => {
    const path = file('node.key.json');
    const first = await runCli(['keygen', '--out', path]);
    expect(first.code, first.stderr).toBe(0);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const { key, warning } = readKeyFile(path, crypto);
    expect(warning).toBeUndefined();
    expect(key.bls).toBeUndefined();
    expect(first.stdout).toContain(toHex(key.address));
    expect(first.stdout).not.toContain(toHex(key.ed25519.secretKey));

    const again = await runCli(['keygen', '--out', path]);
    expectOneLineError(again, 'iosnet keygen', 1, /FILE_EXISTS: .* already exists \(use --force/);
    expect(readKeyFile(path, crypto).key.address).toEqual(key.address);

    const forced = parseJson(await runCli(['keygen', '--out', path, '--force', '--validator', '--json']));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const replaced = readKeyFile(path, crypto).key; // checks the PoP, throws if it does not verify
    expect(replaced.address).not.toEqual(key.address);
    expect(forced.address).toBe(toHex(replaced.address));
    expect(forced.blsPublicKey).toBe(toHex(replaced.bls!.publicKey));
    expect(JSON.stringify(forced)).not.toContain(toHex(replaced.bls!.secretKey));
  });

  test('identity matches core deviceIdentityHash', async () => {
    const pubkey = crypto.ed25519.getPublicKey(new Uint8Array(32).fill(3));
    const expected = toHex(deviceIdentityHash(crypto, 'rpi4', pubkey, 'SN-0042'));
    const r = await runCli([
      'identity',
      '--board',
      'rpi4',
      '--pubkey',
      toHex(pubkey).toUpperCase(),
      '--serial',
      'SN-0042',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(expected);
  });

  test('genesis: valid, 21e9 IOST in five buckets, owner keys 0600, decodes', async () => {
    const validatorKey = file('validator.key.json');
    writeKeyFile(validatorKey, generateKeyFile(crypto, { validator: true }), { force: false });
    const out = file('genesis.cbor');
    const keysDir = file('owners');
    const summary = parseJson(
      await runCli([
        'genesis',
        '--out',
        out,
        '--validator',
        validatorKey,
        '--keys-dir',
        keysDir,
        '--time',
        '1700000000000',
        '--json',
      ]),
    );
    const g = decodeGenesis(new Uint8Array(readFileSync(out)));
    validateGenesis(crypto, g);
    expect(summary.genesisHash).toBe(toHex(genesisHash(crypto, g)));
    expect(g.chainId).toBe('iosnet-devnet');
    expect(g.time).toBe(1_700_000_000_000);
    const total = g.allocations.reduce((s, a) => s + a.liquid + a.staked, 0n);
    expect(total).toBe(TOTAL_SUPPLY);
    expect(total / IOST_UNIT).toBe(TOTAL_SUPPLY_IOST);
    expect(g.validators).toHaveLength(1);
    expect(g.validators[0]!.endpoint).toBe('127.0.0.1:0');
    for (const bucket of [
      'privateSale',
      'foundation',
      'communityIncentives',
      'team',
      'earlyInvestorsAdvisors',
    ]) {
      expect(statSync(join(keysDir, `${bucket}.key.json`)).mode & 0o777).toBe(0o600);
    }

    const [decoded, exists] = await runAll([
      ['decode', out, '--json'],
      ['genesis', '--out', out, '--validator', validatorKey, '--keys-dir', keysDir],
    ]);
    const d = parseJson(decoded!);
    expect(d.kind).toBe('genesis');
    expect(d.id).toBe(summary.genesisHash);
    expect(d.signaturesValid).toBe(true);
    expectOneLineError(exists!, 'iosnet genesis', 1, /FILE_EXISTS/);
  });

  test('decode shows kind, id and signature checks', async () => {
    const w = (name: string, data: Uint8Array | string) => {
      writeFileSync(file(name), data);
      return file(name);
    };
    const committee = w('committee.bin', fx.committee);
    const runs: string[][] = [
      ['decode', w('tx.hex', `0x${toHex(fx.tx).replace(/(.{40})/g, '$1\n')}\n`), '--json'],
      ['decode', toHex(fx.txBadSignature), '--json'],
      ['decode', w('committee.hex', toHex(fx.committee)), '--json'],
      ['decode', w('block.bin', fx.block), '--committee', committee, '--json'],
      ['decode', w('block-bad.bin', fx.blockBadTxSignature), '--committee', committee, '--json'],
      ['decode', w('state-block.bin', fx.stateBlock), '--committee', committee, '--json'],
      ['decode', w('certificate.bin', fx.certificate), '--committee', committee, '--json'],
      ['decode', toHex(fx.header)],
      ['decode', toHex(fx.txInclusionProof), '--committee', toHex(fx.committee), '--json'],
      ['decode', toHex(fx.stateProof), '--json'],
    ];
    const [tx, txBad, comm, block, blockBad, stateBlock, cert, headerHuman, inclusion, stateProof] =
      await runAll(runs);

    const t = parseJson(tx!);
    expect(t).toMatchObject({ kind: 'tx', id: toHex(fx.txId), idType: 'tx id', signaturesValid: true });
    expect((t.fields as Record<string, unknown>).fee).toBe('23');
    expect(parseJson(txBad!)).toMatchObject({ kind: 'tx', signaturesValid: false });

    expect(parseJson(comm!)).toMatchObject({
      kind: 'committee',
      id: toHex(fx.committeeHash),
      signaturesValid: true,
    });

    const b = parseJson(block!);
    expect(b).toMatchObject({ kind: 'block', id: toHex(fx.blockId), signaturesValid: true });
    expect(b.checks).toEqual({ txSignatures: 'valid', txRoot: 'valid', proposerSignature: 'valid' });
    const bb = parseJson(blockBad!);
    expect(bb.signaturesValid).toBe(false);
    expect((bb.checks as Record<string, string>).txSignatures).toMatch(
      /^invalid: VERIFY_BAD_SIGNATURE: tx 1:/,
    );

    expect(parseJson(stateBlock!)).toMatchObject({
      kind: 'stateBlock',
      id: toHex(fx.stateBlockId),
      signaturesValid: true,
      checks: { collectiveSignature: 'valid' },
    });
    expect(parseJson(cert!)).toMatchObject({ kind: 'finalityCertificate', signaturesValid: true });

    const inc = parseJson(inclusion!);
    expect(inc).toMatchObject({ kind: 'txInclusionProof', signaturesValid: true });
    expect(inc.fields).toMatchObject({ blockId: toHex(fx.blockId), grade: 2 });
    const sp = parseJson(stateProof!);
    expect(sp.kind).toBe('stateProof');
    expect(sp.signaturesValid).toBeUndefined();
    expect(sp.fields).toMatchObject({
      namespace: 'account',
      recordDecoded: { kind: 'account', fields: { balance: '42' } },
    });

    expect(headerHuman!.code).toBe(0);
    expect(headerHuman!.stdout).toContain(`block id       ${toHex(fx.blockId)}`);
    expect(headerHuman!.stdout).toMatch(
      /signatures +not all checked\n +proposerSignature +unchecked: needs --committee\n/,
    );
  });

  test('every error is one line on stderr with a non-zero exit', async () => {
    const tx = toHex(fx.tx);
    const cases: [string[], string, number, RegExp][] = [
      [[], 'iosnet', 2, /missing command/],
      [['frobnicate'], 'iosnet frobnicate', 2, /unknown command/],
      [['keygen', '--bogus'], 'iosnet keygen', 2, /Unknown option '--bogus'/],
      [['keygen', '--out'], 'iosnet keygen', 2, /argument missing/],
      [['decode'], 'iosnet decode', 2, /missing argument/],
      [['decode', 'zz-not-hex'], 'iosnet decode', 1, /INPUT_INVALID: .*not hex/],
      [['decode', join(dir, 'does-not-exist.bin')], 'iosnet decode', 1, /INPUT_INVALID: .*no such file/],
      [['decode', tx.slice(0, -2)], 'iosnet decode', 1, /DECODE_TRUNCATED: tx\.signatures\[0\]/],
      [['decode', `${tx}00`], 'iosnet decode', 1, /DECODE_TRAILING_BYTES: tx: 1 trailing bytes/],
      [
        ['decode', toHex(fx.txNonCanonicalFee)],
        'iosnet decode',
        1,
        new RegExp(
          `^iosnet decode: DECODE_NON_CANONICAL: tx\\.fee: argument not in shortest form \\(offset ${fx.feeOffset}\\)$`,
        ),
      ],
      [
        ['decode', '82011863'],
        'iosnet decode',
        1,
        /DECODE_UNKNOWN_TYPE: object type 99 is not an iosnet object type/,
      ],
      [
        ['decode', tx, '--committee', tx],
        'iosnet decode',
        1,
        /DECODE_UNKNOWN_TYPE: --committee \w+\.\.\.: is a tx object, not a committee$/,
      ],
      [
        ['genesis', '--out', join(dir, 'g3'), '--validator', 'v.json'],
        'iosnet genesis',
        2,
        /--keys-dir is required/,
      ],
    ];
    const results = await runAll(cases.map(([args]) => args));
    results.forEach((r, i) => {
      const [, prefix, exitCode, pattern] = cases[i]!;
      expectOneLineError(r, prefix, exitCode, pattern);
    });
  });
});
