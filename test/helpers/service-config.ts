import { join } from 'node:path';

/**
 * What every in-process test service shares: loopback admin with a token file in `dir`, certificates made
 * there, cluster facts from `factsFile`, a silent log and no audit sinks (tests read events from the log).
 */
export function standaloneTestConfig(dir: string, factsFile: string) {
  return {
    admin: { host: '127.0.0.1', port: 0, tokenFile: join(dir, 'admin-token') },
    tls: { dir: join(dir, 'certs') },
    facts: { file: factsFile },
    log: { level: 'silent' },
    audit: { sinks: [] },
  };
}
