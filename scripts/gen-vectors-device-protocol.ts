/**
 * Regenerates test/vectors/device-protocol/messages.json: the exact bytes of every device-protocol message
 * kind and of an auth token (docs/protocol.md §16), and inputs each decoder must refuse with a given code.
 * Run: npx tsx scripts/gen-vectors-device-protocol.ts
 * Every reject is checked here before it is written, so the file never records "whatever the code did".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from '../core/bytes.js';
import { IosnetError } from '../core/errors.js';
import { decodeForCodec } from '../test/helpers/device-protocol-codecs.js';
import { deviceRejectCases, deviceValidCases } from '../test/helpers/device-protocol-fixtures.js';

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'vectors', 'device-protocol');
const valid = deviceValidCases();
const rejects = deviceRejectCases(valid).map((r) => {
  try {
    decodeForCodec(r.codec, r.bytes);
  } catch (e) {
    if (e instanceof IosnetError && e.code === r.code) return r;
    throw new Error(`reject "${r.name}": expected ${r.code}, got ${(e as IosnetError).code ?? e}`);
  }
  throw new Error(`reject "${r.name}": accepted`);
});
mkdirSync(OUT, { recursive: true });
writeFileSync(
  join(OUT, 'messages.json'),
  `${JSON.stringify(
    {
      description:
        'Device protocol over MQTT (docs/protocol.md §16): valid messages (decode, then re-encode to the same bytes) and inputs that must be refused with the given DecodeError code.',
      valid: valid.map((v) => ({ name: v.name, codec: v.codec, hex: toHex(v.bytes) })),
      reject: rejects.map((r) => ({ name: r.name, codec: r.codec, hex: toHex(r.bytes), code: r.code })),
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${valid.length} valid and ${rejects.length} reject vectors to ${OUT}/messages.json`);
