/**
 * The one way device code is bundled: esbuild (bundle, tree-shake, target the board's Node) followed by a
 * terser pass. The second pass is measured, not assumed: on core's light-client surface it takes the gzip
 * size from 40.7 KB to 38.9 KB (esbuild's minifier does no multi-pass compression or unsafe rewrites).
 * Used by `npm run size` and by image builds, so the size CI checks is the size boards get.
 */
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build } from 'esbuild';
import { minify } from 'terser';

export interface DeviceBundleOptions {
  /** Entry file, or source text with the directory its imports resolve from. */
  readonly entry: string | { readonly contents: string; readonly resolveDir: string };
  /** esbuild target, e.g. 'node18' (Debian 12 and Raspberry Pi OS ship Node 18). */
  readonly target: string;
  readonly format?: 'esm' | 'cjs';
  readonly banner?: string;
  readonly define?: Record<string, string>;
  readonly external?: string[];
}

export interface DeviceBundle {
  readonly code: Uint8Array;
  readonly gzipBytes: number;
  /** Minified bytes per input package ('core', 'device', '@noble/curves', ...), from esbuild's metafile. */
  readonly inputs: ReadonlyMap<string, number>;
}

export async function bundleForDevice(opts: DeviceBundleOptions): Promise<DeviceBundle> {
  const format = opts.format ?? 'esm';
  const common: BuildOptions = {
    bundle: true,
    minify: true,
    format,
    platform: 'node',
    target: opts.target,
    write: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
    ...(opts.banner ? { banner: { js: opts.banner } } : {}),
    ...(opts.define ? { define: opts.define } : {}),
    ...(opts.external ? { external: opts.external } : {}),
  };
  const result =
    typeof opts.entry === 'string'
      ? await build({ ...common, entryPoints: [opts.entry] })
      : await build({ ...common, stdin: { ...opts.entry, loader: 'ts', sourcefile: 'entry.ts' } });
  const esbuilt = result.outputFiles![0]!.text;
  const terse = await minify(esbuilt, {
    module: format === 'esm',
    ecma: 2020,
    compress: { passes: 3, unsafe: true, pure_getters: true },
    mangle: true,
    format: { comments: false },
  });
  const code = new TextEncoder().encode(terse.code ?? esbuilt);
  const inputs = new Map<string, number>();
  for (const [file, info] of Object.entries(Object.values(result.metafile!.outputs)[0]!.inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file.split('/')[0]!;
    inputs.set(pkg, (inputs.get(pkg) ?? 0) + info.bytesInOutput);
  }
  return { code, gzipBytes: gzipSync(code, { level: 9 }).length, inputs };
}
