/** `iosnet image build --board ID --anchor FILE --release-key KEY --out FILE [--version V]`. */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { getBoard } from '../../boards/index.js';
import { toHex } from '../../core/bytes.js';
import { defineCommand, printJson, requireOption, warn } from '../../gateway/cli/command.js';
import { cliCrypto } from '../../gateway/cli/crypto.js';
import { readKeyFile } from '../../gateway/keys/keyfile.js';
import { buildImage } from '../image.js';
import { ImageError } from '../image-format.js';

const USAGE = `usage: iosnet image build --board ID --anchor FILE --release-key KEY --out FILE [--version V] [--json]

Builds a signed device image: the device light client bundled for the board's Node version, the board
definition and the trust anchor, under a manifest (board, version, size, sha256, signer) signed by the
release key. The same inputs give the same bytes. Fails when the image exceeds the board's slot.

options:
  --board ID          board id (see 'iosnet boards')
  --anchor FILE       trust anchor (canonical CBOR, see docs/device.md)
  --release-key KEY   release key file (iosnet keygen); boards pin its public key
  --out FILE          image file to write
  --version V         image version (default: the package version)
  --json              print one JSON object
  -h, --help          show this help`;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function readInput(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new ImageError(
      'IMAGE_BUILD_FAILED',
      `cannot read ${what} ${path} (${(err as NodeJS.ErrnoException).code})`,
    );
  }
}

export const buildCommand = defineCommand({
  usage: USAGE,
  options: {
    board: { type: 'string' },
    anchor: { type: 'string' },
    'release-key': { type: 'string' },
    out: { type: 'string' },
    version: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }) {
    const board = getBoard(requireOption(values.board, 'board'));
    const anchorPath = requireOption(values.anchor, 'anchor');
    const keyPath = requireOption(values['release-key'], 'release-key');
    const out = requireOption(values.out, 'out');
    const crypto = cliCrypto();
    const { key, warning } = readKeyFile(keyPath, crypto);
    if (warning) warn('image build', warning);
    const started = Date.now();
    const image = await buildImage({
      board,
      anchor: readInput(anchorPath, 'anchor'),
      releaseSecretKey: key.ed25519.secretKey,
      version: values.version ?? packageVersion(),
      crypto,
    });
    const tmp = `${out}.tmp-${process.pid}`;
    writeFileSync(tmp, image.bytes);
    renameSync(tmp, out);
    const summary = {
      file: out,
      board: board.id,
      version: image.manifest.version,
      bytes: image.bytes.length,
      slotBytes: board.slotBytes,
      payloadSha256: toHex(image.manifest.sha256),
      signer: toHex(image.manifest.signer),
      entryBytes: image.entryBytes,
      entryGzipBytes: image.entryGzipBytes,
      buildMs: Date.now() - started,
    };
    if (values.json) return printJson(summary);
    const pct = ((100 * image.bytes.length) / board.slotBytes).toFixed(1);
    console.log(`wrote ${out}: ${image.bytes.length} bytes for ${board.id} (${pct}% of its slot)`);
    console.log(`version         ${summary.version}`);
    console.log(`payload sha256  ${summary.payloadSha256}`);
    console.log(`signer          ${summary.signer}`);
  },
});
