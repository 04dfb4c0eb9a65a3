/**
 * `iosnet decode`: any iosnet object -> readable JSON, with its id and whether its signatures verify.
 *
 * OBJECT_DECODERS maps object type numbers (core/object.ts) to the decoders in decode-kinds.ts. It lives
 * here, not in core: core stays small for device images, and only this tool decodes every kind. Types
 * without an entry (validatorRecord 11, serviceRecord 13, committeeTransition 18) have no codec in core yet
 * and are reported as such.
 *
 * The summary `signaturesValid` is true only if every check ran and passed, false if any failed, and null
 * if none failed but some could not run (no --committee). Objects that carry no signatures (accounts,
 * proofs, records) have no checks and no `signaturesValid`. An invalid signature is a result, not an
 * error: the exit code is 0 whenever the object decodes.
 */
import { toHex } from '../../core/bytes.js';
import { CborReader } from '../../core/cbor.js';
import { decodeCommittee, type PreparedCommittee, prepareCommittee } from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { DecodeError, IosnetError } from '../../core/errors.js';
import { decodeMerkleProof } from '../../core/merkle.js';
import { FORMAT_VERSION, ObjectType, objectTypeName } from '../../core/object.js';
import { decodeAccount, decodeAtomixLockRecord, decodeFileRecord } from '../../core/state.js';
import { readObjectArgument } from '../keys/files.js';
import { defineCommand, printJson } from './command.js';
import { cliCrypto } from './crypto.js';
import {
  type CheckResult,
  type DecodeContext,
  decodeBlockObject,
  decodeCertificateObject,
  decodeCommitteeObject,
  decodeDeviceRecordObject,
  decodeGenesisObject,
  decodeHeaderObject,
  decodeSmtProofObject,
  decodeStateBlockObject,
  decodeStateProofObject,
  decodeTxInclusionProofObject,
  decodeTxObject,
  type ObjectDecoder,
  unsigned,
} from './decode-kinds.js';
import { type Json, toJson } from './json.js';

/** Type number -> decoder: one line per object type. */
export const OBJECT_DECODERS: ReadonlyMap<number, ObjectDecoder> = new Map<number, ObjectDecoder>([
  [ObjectType.tx, decodeTxObject],
  [ObjectType.blockHeader, decodeHeaderObject],
  [ObjectType.block, decodeBlockObject],
  [ObjectType.finalityCertificate, decodeCertificateObject],
  [ObjectType.stateBlock, decodeStateBlockObject],
  [ObjectType.committee, decodeCommitteeObject],
  [ObjectType.genesis, decodeGenesisObject],
  [ObjectType.account, unsigned(decodeAccount)],
  [ObjectType.smtProof, decodeSmtProofObject],
  [ObjectType.merkleProof, unsigned(decodeMerkleProof)],
  [ObjectType.deviceRecord, decodeDeviceRecordObject],
  [ObjectType.fileRecord, unsigned(decodeFileRecord)],
  [ObjectType.atomixLockRecord, unsigned(decodeAtomixLockRecord)],
  [ObjectType.stateProof, decodeStateProofObject],
  [ObjectType.txInclusionProof, decodeTxInclusionProofObject],
]);

export interface DecodedObject {
  readonly kind: string;
  readonly type: number;
  readonly size: number;
  readonly id?: string;
  readonly idType?: string;
  readonly signaturesValid?: boolean | null;
  readonly checks?: Record<string, CheckResult>;
  readonly fields: Json;
}

/** Reads [version, type] without decoding the rest; errors are the CborReader's DecodeErrors. */
export function peekObjectType(bytes: Uint8Array): number {
  const r = new CborReader(bytes);
  r.array('object', { min: 2, max: 64 });
  const version = r.uint('object.version');
  if (version !== FORMAT_VERSION) {
    throw new DecodeError('DECODE_UNKNOWN_VERSION', `object: unknown version ${version}`, {
      field: 'object.version',
      version,
    });
  }
  return r.uint('object.type');
}

function summarize(checks: Record<string, CheckResult>): boolean | null {
  const results = Object.values(checks);
  if (results.some((c) => c.startsWith('invalid'))) return false;
  return results.every((c) => c === 'valid') ? true : null;
}

export function decodeObject(
  bytes: Uint8Array,
  opts: { crypto: Crypto; committee: PreparedCommittee | undefined },
): DecodedObject {
  const type = peekObjectType(bytes);
  const kind = objectTypeName(type);
  if (kind === undefined) {
    throw new DecodeError('DECODE_UNKNOWN_TYPE', `object type ${type} is not an iosnet object type`, {
      type,
    });
  }
  const decoder = OBJECT_DECODERS.get(type);
  if (!decoder) {
    const message = `object type ${type} (${kind}) cannot be decoded by this version`;
    throw new DecodeError('DECODE_UNKNOWN_TYPE', message, { type });
  }
  const ctx: DecodeContext = { ...opts, decodeEmbedded: (inner) => decodeEmbedded(inner, opts) };
  const d = decoder(bytes, ctx);
  return {
    kind,
    type,
    size: bytes.length,
    ...(d.id ? { id: toHex(d.id.value), idType: d.id.type } : {}),
    ...(d.checks ? { signaturesValid: summarize(d.checks), checks: d.checks } : {}),
    fields: toJson(d.fields),
  };
}

function decodeEmbedded(
  bytes: Uint8Array,
  opts: { crypto: Crypto; committee: PreparedCommittee | undefined },
): Json | undefined {
  try {
    const d = decodeObject(bytes, opts);
    return { kind: d.kind, fields: d.fields };
  } catch (err) {
    if (err instanceof IosnetError) return undefined;
    throw err;
  }
}

function loadCommittee(crypto: Crypto, arg: string): PreparedCommittee {
  const label = `--committee ${arg.length > 40 ? `${arg.slice(0, 40)}...` : arg}`;
  try {
    const { bytes } = readObjectArgument(arg);
    const type = peekObjectType(bytes);
    if (type !== ObjectType.committee) {
      const what = objectTypeName(type) ?? `type ${type}`;
      throw new DecodeError('DECODE_UNKNOWN_TYPE', `is a ${what} object, not a committee`, { type });
    }
    return prepareCommittee(crypto, decodeCommittee(bytes));
  } catch (err) {
    if (err instanceof IosnetError) throw new IosnetError(err.code, `${label}: ${err.message}`, err.data);
    throw err;
  }
}

function printHuman(o: DecodedObject): void {
  const label = (s: string) => s.padEnd(15);
  const lines = [`${label('kind')}${o.kind} (type ${o.type}, ${o.size} bytes)`];
  if (o.id !== undefined) lines.push(`${label(o.idType ?? 'id')}${o.id}`);
  if (o.checks) {
    const summary =
      o.signaturesValid === true ? 'valid' : o.signaturesValid === false ? 'INVALID' : 'not all checked';
    lines.push(`${label('signatures')}${summary}`);
    for (const [name, result] of Object.entries(o.checks)) lines.push(`  ${name.padEnd(18)} ${result}`);
  } else {
    lines.push(`${label('signatures')}none (unsigned object)`);
  }
  lines.push('fields:', JSON.stringify(o.fields, null, 2));
  console.log(lines.join('\n'));
}

const USAGE = `usage: iosnet decode HEX|FILE [--committee FILE] [--json]

Decodes any iosnet object (strict canonical CBOR) and shows its kind, its id, its fields (bytes as hex,
amounts in smallest units as decimal strings) and whether its signatures verify.
The argument is a file (hex text, optionally with whitespace and 0x, or raw bytes) or hex itself.

Signatures checked: tx (all, self-contained); block (every tx's signatures and the tx root; the
proposer's with --committee); block header (proposer, with --committee); state block and finality
certificate (the collective signature, with --committee); tx inclusion proof (header and certificate,
with --committee); committee (member keys); genesis (validateGenesis, including the BLS proofs of
possession). Accounts, records and Merkle/SMT/state proofs carry no signatures. An invalid signature is
reported in the output (signaturesValid: false), not by the exit code.

options:
  --committee FILE   the epoch's committee (an encoded committee object, hex or binary)
  --json             print one JSON object
  -h, --help         show this help`;

export const command = defineCommand({
  usage: USAGE,
  options: {
    committee: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1 },
  run({ values, positionals }) {
    const crypto = cliCrypto();
    const committee = values.committee === undefined ? undefined : loadCommittee(crypto, values.committee);
    const { bytes } = readObjectArgument(positionals[0]!);
    const decoded = decodeObject(bytes, { crypto, committee });
    if (values.json) printJson(decoded);
    else printHuman(decoded);
  },
});
