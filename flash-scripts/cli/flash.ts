/** `iosnet flash --port PATH --board ID IMAGE`: flash a signed image over serial and boot it. */
import { readFileSync } from 'node:fs';
import { getBoard } from '../../boards/index.js';
import { defineCommand, printJson, requireOption } from '../../gateway/cli/command.js';
import { cliCrypto } from '../../gateway/cli/crypto.js';
import { ImageError } from '../image-format.js';
import { createProgressBar, formatBytes } from '../progress.js';

const USAGE = `usage: iosnet flash --port PATH --board ID IMAGE [--no-boot] [--no-compress] [--json]

Flashes a signed device image to a board over serial (docs/flashing.md): checks the image locally,
asks the board what it holds (an interrupted flash resumes where it stopped), sends the image, verifies
the flashed slot by hash and boots it; the board checks the signature against its pinned release key and
rolls back an image that does not start. Progress (rate, ETA) goes to stderr.

options:
  --port PATH    serial port of the board (e.g. /dev/ttyUSB0, or a socat pty)
  --board ID     the board on that port (see 'iosnet boards'); must match the image and the board
  --no-boot      stop after the verified transfer
  --no-compress  send every chunk as it is (by default chunks go deflated to a board that offers it)
  --json         print one JSON object
  -h, --help     show this help`;

export const command = defineCommand({
  usage: USAGE,
  options: {
    port: { type: 'string' },
    board: { type: 'string' },
    'no-boot': { type: 'boolean' },
    'no-compress': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1 },
  async run({ values, positionals }) {
    const path = requireOption(values.port, 'port');
    const board = getBoard(requireOption(values.board, 'board'));
    const file = positionals[0]!;
    let image: Uint8Array;
    try {
      image = new Uint8Array(readFileSync(file));
    } catch (err) {
      throw new ImageError('IMAGE_INVALID', `cannot read ${file} (${(err as NodeJS.ErrnoException).code})`);
    }
    if (image.length > board.slotBytes) {
      throw new ImageError(
        'IMAGE_TOO_LARGE',
        `${file} is ${image.length} bytes, ${board.id} slots hold ${board.slotBytes}`,
      );
    }
    const { openSerialPort } = await import('../serial.js');
    const { flashImage } = await import('../flash.js');
    const port = await openSerialPort(path, board.flash.baud);
    const bar = createProgressBar({
      isTTY: process.stderr.isTTY === true,
      write: (t) => process.stderr.write(t),
    });
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once('SIGINT', onSignal);
    try {
      const result = await flashImage({
        port: port.stream,
        image,
        boardId: board.id,
        crypto: cliCrypto(),
        baudRate: board.flash.baud,
        signal: abort.signal,
        boot: values['no-boot'] !== true,
        ...(values['no-compress'] === true ? { compression: false as const } : {}),
        onProgress: (p) => bar.update(p),
        onConsole: (text) => process.stderr.write(text.replace(/^/gm, 'console: ')),
      });
      bar.finish();
      const summary = {
        board: board.id,
        port: path,
        bytes: result.bytes,
        resumedFrom: result.resumedFrom,
        dataBytesSent: result.dataBytesSent,
        slot: result.slot,
        bootedVersion: result.bootedVersion ?? null,
        ms: result.ms,
      };
      if (values.json) return printJson(summary);
      const resumed = result.resumedFrom > 0 ? `, resumed at ${formatBytes(result.resumedFrom)}` : '';
      const wire =
        result.dataBytesSent < result.bytes - result.resumedFrom
          ? ` (${formatBytes(result.dataBytesSent)} on the line)`
          : '';
      console.log(
        `flashed ${formatBytes(result.bytes)} to slot ${result.slot} in ${result.ms} ms${resumed}${wire}`,
      );
      if (result.bootedVersion)
        console.log(`booted version ${result.bootedVersion} from slot ${result.slot}`);
    } finally {
      process.removeListener('SIGINT', onSignal);
      await port.close();
    }
  },
});
