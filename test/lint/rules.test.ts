import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ESLint } from 'eslint';

/**
 * The import rules `npm run lint` enforces, shown to fire: a rule whose resolver resolves nothing
 * (eslint's cycle rules without the `.ts` extension configured) passes on every tree, so each rule
 * is given a planted violation, and a legitimate import beside it that it must let through.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

interface CruiseViolation {
  rule: { name: string };
  from: string;
  to: string;
}

/** dependency-cruiser, as `npm run lint` runs it, over one folder: the violations it reports. */
async function cruise(dir: string): Promise<CruiseViolation[]> {
  const cli = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
  const args = [cli, '--config', '.dependency-cruiser.mjs', '--output-type', 'json', relative(ROOT, dir)];
  const out = await run(process.execPath, args, { cwd: ROOT }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  return (JSON.parse(out.stdout) as { summary: { violations: CruiseViolation[] } }).summary.violations;
}

/** Two modules in a fresh folder inside the project (so the project's config applies), removed afterwards. */
async function withModules(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(ROOT, 'test', 'lint', 'planted-'));
  try {
    for (const [name, source] of Object.entries(files)) await writeFile(join(dir, name), source);
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('lint: no import cycles', () => {
  it('refuses a cycle made of type-only imports through .ts paths', async () => {
    await withModules(
      {
        'a.ts': "import type { B } from './b.ts';\nexport interface A { b?: B }\n",
        'b.ts': "import type { A } from './a.ts';\nexport interface B { a?: A }\n",
      },
      async (dir) => {
        const cycles = (await cruise(dir)).filter((v) => v.rule.name === 'no-circular');
        assert.ok(cycles.length > 0, 'a type-only cycle is reported');
        assert.ok(cycles.every((v) => v.from.startsWith(relative(ROOT, dir))));
      },
    );
  });

  it('refuses a cycle of value imports, and lets a one-way import through', async () => {
    await withModules(
      {
        'a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
        'b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
      },
      async (dir) => assert.ok((await cruise(dir)).some((v) => v.rule.name === 'no-circular')),
    );
    await withModules(
      {
        'a.ts': "import type { B } from './b.ts';\nexport interface A { b?: B }\n",
        'b.ts': 'export interface B { n: number }\n',
      },
      async (dir) => assert.deepEqual(await cruise(dir), []),
    );
  });
});

describe('lint: layers', () => {
  const eslint = new ESLint({ cwd: ROOT });
  /** The layer violations ESLint reports for `source` as if it were the file at `path`. */
  async function layerErrors(path: string, source: string): Promise<string[]> {
    const [result] = await eslint.lintText(source, { filePath: join(ROOT, path) });
    return result!.messages.filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => m.message);
  }

  it('src/routes may not import src/store, not even a type', async () => {
    const typeOnly = await layerErrors(
      'src/routes/admin/planted.ts',
      "import type { Store } from '../../store/port.ts';\nexport type S = Store;\n",
    );
    assert.equal(typeOnly.length, 1);
    assert.match(typeOnly[0]!, /src\/routes may not import src\/store/);
    assert.equal(
      (await layerErrors('src/routes/v1/planted.ts', "import { keys } from '../../store/keys.ts';\nexport const k = keys;\n")).length,
      1,
    );
    // Routes call domain services: that import is what the rule steers to.
    assert.deepEqual(
      await layerErrors(
        'src/routes/admin/planted.ts',
        "import type { Accounts } from '../../accounts/accounts.ts';\nexport type A = Accounts;\n",
      ),
      [],
    );
  });

  it('domain folders may not import src/http or src/routes', async () => {
    for (const folder of ['accounts', 'api-keys', 'oauth', 'principal', 'rate-limit', 'store', 'tokens']) {
      const http = await layerErrors(
        `src/${folder}/planted.ts`,
        "import type { OperationRegistry } from '../http/route.ts';\nexport type R = OperationRegistry;\n",
      );
      assert.equal(http.length, 1, `${folder} importing src/http`);
      assert.match(http[0]!, /Domain folders may not import src\/http or src\/routes/);
      const routes = await layerErrors(
        `src/${folder}/planted.ts`,
        "import { createOperationsRouter } from '../routes/operations.ts';\nexport const r = createOperationsRouter;\n",
      );
      assert.equal(routes.length, 1, `${folder} importing src/routes`);
      // The store port is what domain code is written against.
      assert.deepEqual(
        await layerErrors(`src/${folder}/planted.ts`, "import type { Store } from '../store/port.ts';\nexport type S = Store;\n"),
        [],
      );
    }
  });

  it('the HTTP side may import domain code', async () => {
    assert.deepEqual(
      await layerErrors('src/http/planted.ts', "import type { Store } from '../store/port.ts';\nexport type S = Store;\n"),
      [],
    );
  });
});

describe('lint: comments name files that exist', () => {
  /** scripts/check-comment-paths.mjs, as `npm run lint` runs it: its report lines. */
  async function staleReferences(): Promise<string[]> {
    const out = await run(process.execPath, [join(ROOT, 'scripts', 'check-comment-paths.mjs')], { cwd: ROOT }).catch(
      (err: { stdout?: string }) => ({
        stdout: err.stdout ?? '',
      }),
    );
    return out.stdout.split('\n').filter(Boolean);
  }

  it('reports a comment naming a file that does not exist, and not one naming a file that does', async () => {
    const source = [
      '// Commands are registered in src/cli/commands.ts: one line each.',
      '/** Mounted by src/http/oauth/mount.ts, see also (client-address.ts) and ./a.ts; served at /openapi.json. */',
      'export const a = 1;',
      '',
    ].join('\n');
    await withModules({ 'a.ts': source }, async (dir) => {
      const planted = (await staleReferences()).filter((line) => line.startsWith(`${relative(ROOT, dir)}/`));
      assert.deepEqual(planted, [`${relative(ROOT, dir)}/a.ts:1: names src/cli/commands.ts, which does not exist`]);
    });
  });
});
