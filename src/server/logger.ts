import pino from 'pino';

/** Fields that may carry credentials; pino replaces them wherever they appear in a log line. */
const REDACT = [
  'authorization',
  'token',
  'password',
  'secret',
  '*.authorization',
  '*.cookie',
  '*.token',
  '*.password',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-forwarded-client-cert"]',
];

export type Logger = pino.Logger;

/** The one stdout writer shared by the log and the audit trail, so their lines never interleave. */
export function stdoutDestination() {
  return pino.destination({ dest: 1, sync: false, maxLength: 16 * 1024 * 1024 });
}

export function createLogger(level: string, destination: pino.DestinationStream): Logger {
  return pino({ level, base: { service: 'portcullis' }, redact: { paths: REDACT, censor: '**REDACTED**' } }, destination);
}
