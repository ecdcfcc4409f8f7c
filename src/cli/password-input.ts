import { UsageError } from './errors.ts';

/** Longer than any password policy allows: stdin is not read without bound. */
const MAX_STDIN_BYTES = 64 * 1024;

class CancelledError extends Error {}

/** Everything piped in, without the one line ending `echo` or a file adds. */
async function readStdin(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > MAX_STDIN_BYTES) throw new UsageError('--password-stdin: more than 64 KiB on stdin');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Ask on the terminal with echo off (the typed password never shows, nor lands in any history). */
function prompt(question: string, stdin: NodeJS.ReadStream, stderr: NodeJS.WriteStream): Promise<string> {
  stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          done();
          return resolve(value);
        }
        if (ch === '\u0003') {
          done();
          return reject(new CancelledError('cancelled'));
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * Where a command's password comes from, most private first: a terminal prompt with echo off; stdin
 * with `--password-stdin` (scripts: `printf %s "$PW" | portcullis user create ... --password-stdin`,
 * as `docker login` does); or `--password`, kept for old scripts, which `ps` and shell history see:
 * it works, with a warning on stderr. Without a terminal or one of the flags it is a usage error,
 * rather than waiting on a stdin that may never end.
 */
export async function readPassword(
  opts: { flag: string | undefined; fromStdin: boolean; confirm: boolean },
  io: { stdin: NodeJS.ReadStream; stderr: NodeJS.WriteStream } = { stdin: process.stdin, stderr: process.stderr },
): Promise<string> {
  if (opts.flag !== undefined && opts.fromStdin) throw new UsageError('--password and --password-stdin exclude each other');
  if (opts.flag !== undefined) {
    io.stderr.write(
      'portcullis: warning: --password is unsafe (other users see it in `ps`, and it stays in shell history); ' +
        'use --password-stdin or the prompt\n',
    );
    return opts.flag;
  }
  if (opts.fromStdin) return readStdin(io.stdin);
  if (!io.stdin.isTTY) throw new UsageError('a password is required: pipe it with --password-stdin, or run in a terminal to be asked');
  const password = await prompt('Password: ', io.stdin, io.stderr);
  if (opts.confirm && (await prompt('Password (again): ', io.stdin, io.stderr)) !== password)
    throw new UsageError('the two passwords differ');
  return password;
}
