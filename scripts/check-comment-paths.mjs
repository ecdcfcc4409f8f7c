// Every file a code comment names exists: a comment that points at a moved or deleted file sends
// the next reader nowhere. Run by `npm run lint`; prints each stale reference as file:line.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, normalize } from 'node:path';

const root = join(import.meta.dirname, '..');
const SCANNED = /^(src|test|bench|bin|scripts)\/.*\.(ts|mjs)$/;
// A path-like word ending in a file extension; URL paths (/openapi.json) and URLs are not files of ours.
const REFERENCE = /(?<![\w@./:-])((?:\.{1,2}\/)?[\w-][\w.-]*(?:\/[\w.-]+)*\.(?:ts|mjs|cjs|js|md|json|txt|ya?ml))(?![\w/-])/g;

const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && existsSync(join(root, f)));
const basenames = new Set(files.map((f) => basename(f)));

/** The comment text on a line: after `//`, or a block comment's line (`/*`, ` *`). */
function commentOf(line) {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('*') || trimmed.startsWith('/*')) return trimmed;
  const at = line.search(/(^|[\s;,{}()])\/\/ /);
  return at < 0 ? null : line.slice(at);
}

function exists(ref, from) {
  if (!ref.includes('/')) return basenames.has(ref);
  const bare = ref.replace(/^(\.\.?\/)+/, '');
  return (
    [normalize(join(dirname(from), ref)), bare, `src/${bare}`].some((p) => files.includes(p)) || files.some((f) => f.endsWith(`/${bare}`))
  );
}

let stale = 0;
for (const file of files.filter((f) => SCANNED.test(f))) {
  readFileSync(join(root, file), 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const comment = commentOf(line);
      if (!comment) return;
      for (const [, ref] of comment.matchAll(REFERENCE)) {
        if (exists(ref, file)) continue;
        stale++;
        console.log(`${file}:${i + 1}: names ${ref}, which does not exist`);
      }
    });
}
process.exitCode = stale ? 1 : 0;
