/**
 * Regenerates test/vectors/objects/*.json: for every top-level object kind, valid encodings (hex, decoded
 * value, id) of fixed deterministic fixtures, and must-reject inputs with the error each must produce.
 * Run: npx tsx scripts/gen-vectors-objects.ts
 *
 * Every reject is checked here before it is written: if core's actual outcome differs from the intended
 * code the script stops, so a vector file never records "whatever the code happened to do".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concatBytes, toHex } from '../core/bytes.js';
import { DecodeError, IosnetError, VerifyError } from '../core/errors.js';
import { type Genesis, validateGenesis } from '../core/genesis.js';
import { genericRejects, type RejectSpec } from '../test/helpers/byte-surgery.js';
import { testCrypto } from '../test/helpers/crypto.js';
import { type ObjectCase, validObjectCases } from '../test/helpers/object-fixtures.js';
import { SPECIFIC_REJECTS } from '../test/helpers/object-rejects.js';
import {
  CODECS,
  OBJECT_KINDS,
  type ObjectKind,
  type ObjectVectorFile,
  type RejectObjectVector,
  toJsonValue,
  type ValidObjectVector,
} from '../test/helpers/objects.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'objects');
const hex = toHex;
const zeros = (n: number) => new Uint8Array(n);

const DESCRIPTIONS: Record<ObjectKind, string> = {
  tx: 'Transaction = [1, 1, [chainId, kind, sender, nonce, expiry, fee, payload], [signature, ...]]; txId = H("iosnet/tx/v1", body bytes). One valid vector per TxKind (docs/protocol.md §6).',
  header:
    'BlockHeader = [1, 2, body, proposerSignature]; blockId = H("iosnet/block/v1", body bytes), BLS-signed by the proposer (docs/protocol.md §7). Stage "verify" is core verifyHeader with the shard-0, epoch-1 test committee.',
  block: "Block = [1, 3, BlockHeader, [Transaction, ...]]; blockId is the header's id (docs/protocol.md §7).",
  finalityCertificate:
    'FinalityCertificate = [1, 4, blockId, shard, height, epoch, [signers bitmap, BLS aggregate]]; the aggregate is over H("iosnet/vote/v1", 0x02 || blockId) by > 2/3 of the weight. It has no id of its own. Stage "verify" is core verifyFinalityCertificate with the shard-0, epoch-1 test committee and the header of the first header vector.',
  committee:
    'Committee = [1, 6, chainId, shard, epoch, leagueSize, [[blsPublicKey, weight], ...]]; committeeHash = H("iosnet/committee/v1", bytes) (docs/protocol.md §7.1).',
  stateBlock:
    'StateBlock = [1, 5, body, collectiveSignature]; stateBlockId = H("iosnet/state-block/v1", body bytes) (docs/protocol.md §10). Stage "verify" is core verifyStateBlock with the shard-0, epoch-1 test committee.',
  account:
    'AccountState = [1, 8, balance, nonce, staked, unbonding, unbondingEpoch, locked]; valueHash = H("iosnet/state-value/v1", bytes) is what the state tree stores.',
  deviceRecord:
    'DeviceRecord = [1, 12, owner, devicePublicKey, boardId, hardwareSerial, registeredHeight]; valueHash as for every state record.',
  fileRecord:
    'FileRecord = [1, 14, owner, size, chunkSize, replication, name, storedHeight]; valueHash as for every state record.',
  atomixLockRecord:
    'AtomixLockRecord = [1, 15, crossTxId, inputIndex, status (1 accepted, 2 rejected, 3 committed, 4 aborted), amount].',
  genesis:
    'Genesis = [1, 7, chainId, time, shardCount, params, allocations, validators]; genesisHash = H("iosnet/genesis/v1", bytes) (docs/protocol.md §11).',
};

const COMMON =
  ' Fixtures come from test/helpers (keys derived from labels with sha256). Values: bytes as {"$bytes": hex}, u64 as {"$u64": decimal}. reject: stage "decode" = decoding throws DecodeError `error`; "verify" = it decodes and the light-client check (core/verify.ts, or verifyTxSignatures for transactions) throws VerifyError `error`; "validate" = it decodes and validateGenesis throws `error`. `appendZeroBytes` = zero bytes to append to hex first. Regenerate: npx tsx scripts/gen-vectors-objects.ts';

function outcome(kind: ObjectKind, spec: RejectSpec): string {
  const codec = CODECS[kind];
  const bytes = spec.appendZeroBytes ? concatBytes(spec.bytes, zeros(spec.appendZeroBytes)) : spec.bytes;
  let value: unknown;
  try {
    value = codec.decode(bytes);
  } catch (e) {
    if (e instanceof DecodeError) return `decode:${e.code}`;
    throw e;
  }
  try {
    if (spec.stage === 'validate') validateGenesis(testCrypto, value as Genesis);
    else codec.verify?.(value);
  } catch (e) {
    if (e instanceof VerifyError || (e instanceof IosnetError && spec.stage === 'validate'))
      return `${spec.stage}:${e.code}`;
    throw e;
  }
  return 'accepted';
}

function buildFile(kind: ObjectKind, cases: ObjectCase[]): ObjectVectorFile {
  const codec = CODECS[kind];
  const valid: ValidObjectVector[] = cases.map((c) => {
    const bytes = codec.encode(c.value);
    const back = codec.encode(codec.decode(bytes));
    if (hex(back) !== hex(bytes)) throw new Error(`${kind}/${c.name}: does not round-trip`);
    codec.verify?.(codec.decode(bytes));
    return {
      name: c.name,
      hex: hex(bytes),
      ...(codec.id ? { id: hex(codec.id(bytes)) } : {}),
      ...(codec.valueHash ? { valueHash: hex(codec.valueHash(bytes)) } : {}),
      value: toJsonValue(c.value),
      ...(c.note ? { note: c.note } : {}),
    };
  });
  const first = codec.encode(cases[0]!.value);
  const specs = [...genericRejects(kind, first), ...SPECIFIC_REJECTS[kind]()];
  const problems: string[] = [];
  const reject: RejectObjectVector[] = specs.map((s) => {
    const stage = s.stage ?? 'decode';
    const got = outcome(kind, s);
    if (got !== `${stage}:${s.error}`)
      problems.push(`${kind}/${s.name}: expected ${stage}:${s.error}, got ${got}`);
    return {
      name: s.name,
      hex: hex(s.bytes),
      ...(s.appendZeroBytes ? { appendZeroBytes: s.appendZeroBytes } : {}),
      stage: stage as RejectObjectVector['stage'],
      error: s.error,
      ...(s.note ? { note: s.note } : {}),
    };
  });
  if (problems.length > 0) throw new Error(`reject vectors do not hold:\n  ${problems.join('\n  ')}`);
  return { description: DESCRIPTIONS[kind] + COMMON, kind, valid, reject };
}

function main(): void {
  mkdirSync(OUT, { recursive: true });
  const cases = validObjectCases();
  for (const kind of OBJECT_KINDS) {
    const file = buildFile(kind, cases[kind]);
    writeFileSync(join(OUT, CODECS[kind].file), `${JSON.stringify(file, null, 2)}\n`);
    console.log(`${CODECS[kind].file}: ${file.valid.length} valid, ${file.reject.length} reject`);
  }
}

main();
