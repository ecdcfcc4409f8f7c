// The import graph's rule that ESLint cannot express: no cycles, type-only imports included
// (eslint-plugin-import-x's no-cycle skips `import type` unconditionally). Run by `npm run lint`.
/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Two modules that import each other (if only for a type) are one module split in two: cut the cycle.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Count imports TypeScript erases (`import type`) too: a layer rule is about what a module knows.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
