import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The documents a reader follows links through: the README, the security policy and docs/. */
async function documents(): Promise<string[]> {
  const docs = (await readdir(join(ROOT, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f));
  return [join(ROOT, 'README.md'), join(ROOT, 'SECURITY.md'), ...docs].filter((f) => existsSync(f));
}

/** Markdown without fenced code blocks and inline code, where brackets and hashes are not links or headings. */
function prose(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === null || marker.startsWith(fence))) {
      fence = fence === null ? marker : null;
      lines.push('');
      continue;
    }
    lines.push(fence === null ? line : '');
  }
  return lines;
}

/** A heading's anchor as GitHub renders it: the text without markup, lower-cased, punctuation dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

/** Every anchor a document offers, with GitHub's -1, -2 suffixes for repeated headings. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The link targets of a document: inline links and images, and reference definitions, outside code. */
function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of prose(markdown)) {
    const text = line.replace(/`+[^`]*`+/g, '');
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]);
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text);
    if (definition) targets.push(definition[1]);
  }
  return targets;
}

/**
 * What is wrong with the relative links of some documents: a file that does not exist, or an
 * anchor that is no heading of its target. `read` gives a document's text (a file, or a test's fixture).
 */
async function brokenLinks(files: string[], read: (file: string) => Promise<string | null>): Promise<string[]> {
  const problems: string[] = [];
  for (const file of files) {
    const markdown = await read(file);
    if (markdown === null) continue;
    for (const target of linkTargets(markdown)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
      const hash = target.indexOf('#');
      const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
      const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
      const to = path === '' ? file : resolve(dirname(file), path);
      const where = `${relative(ROOT, file)}: ${target}`;
      const text = await read(to);
      if (text === null) {
        problems.push(`${where} (no such file: ${relative(ROOT, to)})`);
        continue;
      }
      if (anchor === null || anchor === '') continue;
      if (!to.endsWith('.md')) {
        problems.push(`${where} (an anchor into a file that is not Markdown)`);
        continue;
      }
      if (!anchorsOf(text).has(anchor)) problems.push(`${where} (no heading #${anchor} in ${relative(ROOT, to)})`);
    }
  }
  return problems;
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    // A directory is a valid link target (GitHub lists it); its text is not needed.
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') return '';
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

describe('documentation links', () => {
  it('every relative link and #anchor in README.md, SECURITY.md and docs/*.md leads to a file and a heading that exist', async () => {
    const files = await documents();
    assert.ok(files.length >= 10, `expected the README and docs/, found ${files.map((f) => relative(ROOT, f))}`);
    const problems = await brokenLinks(files, readIfExists);
    assert.deepEqual(problems, [], `broken links:\n${problems.join('\n')}`);
  });

  it('the README links to every document in docs/', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const linked = new Set(linkTargets(readme).map((t) => t.split('#')[0]));
    for (const doc of await readdir(join(ROOT, 'docs'))) {
      if (doc.endsWith('.md')) assert.ok(linked.has(`docs/${doc}`), `README.md does not link to docs/${doc}`);
    }
  });

  it('finds a missing file, a missing anchor and a link to a repeated heading, and ignores links inside code', async () => {
    const fixture: Record<string, string> = {
      [join(ROOT, 'a.md')]: [
        '# Title',
        'See [b](b.md#the-verify-fast-lane), [the second](b.md#setup-1), [here](#title), [code](#not-a-heading).',
        'Also [gone](missing.md), [site](https://example.com/x.md#y) and `[not a link](nowhere.md)`.',
        '```',
        '[inside a fence](nowhere-either.md)',
        '```',
        '[ref]: b.md#no-such-heading',
      ].join('\n'),
      [join(ROOT, 'b.md')]: ['## The verify fast lane', '## Setup', '## Setup', '```', '# not a heading', '```'].join('\n'),
    };
    const problems = await brokenLinks([join(ROOT, 'a.md')], async (f) => fixture[f] ?? null);
    assert.deepEqual(problems, [
      'a.md: #not-a-heading (no heading #not-a-heading in a.md)',
      'a.md: missing.md (no such file: missing.md)',
      'a.md: b.md#no-such-heading (no heading #no-such-heading in b.md)',
    ]);
  });

  it("makes GitHub's anchors from headings with code, links and punctuation", () => {
    assert.equal(githubSlug('`/v1/auth/verify` as a forward-auth endpoint'), 'v1authverify-as-a-forward-auth-endpoint');
    assert.equal(githubSlug('The API description (`/openapi.json`)'), 'the-api-description-openapijson');
    assert.equal(githubSlug('Medusa-style surfaces and API keys'), 'medusa-style-surfaces-and-api-keys');
    assert.equal(githubSlug('See [the CLI](x.md): REDIS_URL & more'), 'see-the-cli-redis_url--more');
    assert.deepEqual([...anchorsOf('# A\n## A\n### A')], ['a', 'a-1', 'a-2']);
  });
});
