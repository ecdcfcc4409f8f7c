#!/usr/bin/env node
// The `portcullis` command: runs src/cli/main.ts through tsx's loader (needs Node 22, which
// `npm ci` puts in node_modules/.bin, first on PATH for npm scripts and `npx portcullis`).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
