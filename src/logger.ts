import pino, { type Logger } from 'pino';

/** Paths never written to a log line, whatever a caller passes in. */
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-publishable-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.secret',
  'password',
  'token',
  'client_secret',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'portcullis' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
export type { Logger };
