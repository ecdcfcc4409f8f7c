import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** One bundled asset of the console: its hashed file name, body and content type. */
export interface ConsoleAsset {
  name: string;
  body: Buffer;
  type: string;
}

export interface ConsoleBundle {
  script: ConsoleAsset;
  stylesheet: ConsoleAsset;
  /** Every asset by its file name (what /app/assets/<name> serves). */
  byName: Map<string, ConsoleAsset>;
}

const ENTRY = fileURLToPath(new URL('../../console/web/main.tsx', import.meta.url));

/**
 * Bundle the console (Preact + TSX + its stylesheet) in memory with esbuild: minified, each file
 * named by a hash of its content, so browsers may keep it for a year. Nothing is written to disk,
 * so a newcomer's `npm start` needs no build step.
 */
export async function bundleConsole(entry: string = ENTRY): Promise<ConsoleBundle> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: '/console',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets = result.outputFiles.map((file) => {
    const ext = file.path.endsWith('.css') ? 'css' : 'js';
    const body = Buffer.from(file.contents);
    const hash = createHash('sha256').update(body).digest('base64url').slice(0, 16);
    return { name: `console-${hash}.${ext}`, body, type: ext === 'css' ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8' };
  });
  const script = assets.find((a) => a.name.endsWith('.js'));
  const stylesheet = assets.find((a) => a.name.endsWith('.css'));
  if (!script || !stylesheet) throw new Error('the console bundle lacks its script or stylesheet');
  return { script, stylesheet, byName: new Map(assets.map((a) => [a.name, a])) };
}

let memo: Promise<ConsoleBundle> | undefined;

/**
 * The bundle, built on the first request that needs it and kept for the life of the process
 * (tests build many apps: none of them pays for a bundle it does not serve). A failed build is
 * not kept, so the next request tries again.
 */
export function consoleBundle(): Promise<ConsoleBundle> {
  memo ??= bundleConsole().catch((err: unknown) => {
    memo = undefined;
    throw err;
  });
  return memo;
}
