import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tokenFile } from './token-file.js';
import type { VerificationConfig } from '../policy/bundle/verify.js';
import type { PolicyConfig } from '../policy/config.js';
import type { BundleConfig } from '../policy/manager.js';
import { HttpSource } from '../policy/sources/http.js';
import { LocalSource } from '../policy/sources/local.js';

/** The package root: dist/server/.. /.. once built, src/server/../.. under tsx. */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The bundle `npm run build` makes from policies/, served when no bundle is configured. */
export const BUILTIN_BUNDLE = join(PACKAGE_ROOT, 'build', 'bundle.tar.gz');

/** Turns the policy section of the configuration into bundle sources with their verification keys. */
export async function bundleConfigs(policy: PolicyConfig): Promise<BundleConfig[]> {
  const keys: VerificationConfig['keys'] = {};
  for (const [id, k] of Object.entries(policy.keys)) {
    const key = k.key ?? (k.keyFile ? await readFile(k.keyFile, 'utf8') : undefined);
    if (!key) throw new Error(`policy.keys.${id} needs key or keyFile`);
    keys[id] = { algorithm: k.algorithm, key, ...(k.scope ? { scope: k.scope } : {}) };
  }
  const configured = policy.bundles ?? [{ name: 'builtin', path: BUILTIN_BUNDLE, polling: { minDelaySeconds: 60, maxDelaySeconds: 120, timeoutSeconds: 30 } }];
  return configured.map((b) => {
    if (Boolean(b.path) === Boolean(b.url)) throw new Error(`policy.bundles[${b.name}] needs exactly one of path or url`);
    const source = b.path
      ? new LocalSource({ name: b.name, path: b.path, limits: policy.limits })
      : new HttpSource({
          name: b.name,
          url: b.url as string,
          limits: policy.limits,
          headers: b.headers ?? {},
          ...(b.bearerTokenFile ? { token: tokenFile(b.bearerTokenFile) } : {}),
          minDelayMs: b.polling.minDelaySeconds * 1000,
          maxDelayMs: b.polling.maxDelaySeconds * 1000,
          timeoutMs: b.polling.timeoutSeconds * 1000,
        });
    // With keys configured every bundle must be signed, as OPA requires when `signing` or `keys` apply.
    const verification: VerificationConfig | undefined =
      Object.keys(keys).length > 0 || b.signing
        ? { keys, ...(b.signing?.keyid ? { keyId: b.signing.keyid } : {}), ...(b.signing?.scope ? { scope: b.signing.scope } : {}), ...(b.signing?.excludeFiles ? { excludeFiles: b.signing.excludeFiles } : {}) }
        : undefined;
    return { name: b.name, source, verification };
  });
}
