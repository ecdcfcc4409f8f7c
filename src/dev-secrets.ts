import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { generateJwks } from './tokens/generate-jwks.ts';

export interface DevSecrets {
  jwks: JSONWebKeySet;
  cookieSecret: string;
  apiKeyPepper: string;
}

/**
 * Development only: keys and secrets generated once and kept in a git-ignored file, so the
 * server and the CLI agree (a key the CLI creates works against `npm start`) and tokens survive
 * restarts. Written to a temporary file and hard-linked into place, so two processes starting
 * together settle on one complete file.
 */
export async function loadDevSecrets(file: string): Promise<DevSecrets> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DevSecrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secrets: DevSecrets = {
    jwks: await generateJwks(),
    cookieSecret: randomBytes(32).toString('base64url'),
    apiKeyPepper: randomBytes(32).toString('base64url'),
  };
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  try {
    await link(tmp, file);
    return secrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return JSON.parse(await readFile(file, 'utf8')) as DevSecrets;
    throw err;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
