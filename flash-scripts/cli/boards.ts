/** `iosnet boards [--json]`: the board table (boards/*.ts), one line per board. */
import { listBoards } from '../../boards/index.js';
import { defineCommand, printJson } from '../../gateway/cli/command.js';

const USAGE = `usage: iosnet boards [--json]

Lists the boards iosnet builds images for: id, architecture, Node version, RAM, image slot size,
transports and flash baud rate. Emulated boards run under 'iosnet board emulate'.

options:
  --json       print a JSON array
  -h, --help   show this help`;

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${n / (1024 * 1024)} MiB` : `${n / 1024} KiB`;
}

export const command = defineCommand({
  usage: USAGE,
  options: { json: { type: 'boolean' } },
  run({ values }) {
    const boards = listBoards();
    if (values.json) return printJson(boards);
    const rows = [
      ['ID', 'ARCH', 'NODE', 'RAM', 'SLOT', 'TRANSPORTS', 'BAUD', 'NAME'],
      ...boards.map((b) => [
        b.id,
        b.arch,
        String(b.nodeMajor),
        `${b.ramMb} MB`,
        formatBytes(b.slotBytes),
        b.transports.join(','),
        String(b.flash.baud),
        b.name,
      ]),
    ];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const r of rows)
      console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  },
});
