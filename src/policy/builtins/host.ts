import { awsBuiltins } from './aws.js';
import { base64Builtins } from './base64.js';
import type { Builtin } from './builtin.js';
import { collectionBuiltins } from './collections.js';
import { cryptoBuiltins } from './crypto.js';
import { debugBuiltins, type PrintHook } from './debug.js';
import { encodingBuiltins } from './encoding.js';
import { globBuiltins } from './glob-intersection.js';
import { jsonPatchBuiltins } from './json-patch.js';
import { jwtBuiltins } from './jwt.js';
import { netBuiltins } from './net.js';
import { networkBuiltins, type NetworkConfig } from './network.js';
import { numberBuiltins } from './numbers.js';
import { regexBuiltins } from './regex.js';
import { semverBuiltins } from './semver.js';
import { stringBuiltins } from './strings.js';
import { timeBuiltins } from './time.js';

/** What the host builtins may do beyond computing; plain data, so a worker thread gets the same. */
export interface HostConfig {
  /** http.send and net.lookup_ip_addr: refused unless set. */
  network?: NetworkConfig;
}

/**
 * Builtins Portcullis does not provide, and why: a bundle calling one is refused when it is loaded, with
 * the reason. Every other builtin that OPA leaves to the host is in hostBuiltins().
 */
export const NOT_PROVIDED: Readonly<Record<string, string>> = {
  'http.send': 'enable it with policy.network (allowed hosts, timeout, cache)',
  'net.lookup_ip_addr': 'enable it with policy.network (allowed hosts, timeout, cache)',
};

const NETWORK_DEFAULTS: NetworkConfig = { allowedHosts: [], timeoutMs: 1000, cacheSeconds: 60, maxResponseBytes: 1024 * 1024 };

/**
 * Every host builtin Portcullis provides to policies, by OPA name. `all` lists the network builtins
 * whatever the configuration (for capabilities); `print` receives print() output.
 */
export function hostBuiltins(config: HostConfig, options: { all?: boolean; print?: PrintHook } = {}): Map<string, Builtin> {
  const map = new Map<string, Builtin>(
    Object.entries({
      ...awsBuiltins,
      ...base64Builtins,
      ...collectionBuiltins,
      ...cryptoBuiltins,
      ...debugBuiltins(options.print),
      ...encodingBuiltins,
      ...globBuiltins,
      ...jsonPatchBuiltins,
      ...jwtBuiltins,
      ...netBuiltins,
      ...numberBuiltins,
      ...regexBuiltins,
      ...semverBuiltins,
      ...stringBuiltins,
      ...timeBuiltins,
    }),
  );
  if (config.network || options.all) for (const [name, fn] of Object.entries(networkBuiltins(config.network ?? NETWORK_DEFAULTS, config.network !== undefined))) map.set(name, fn);
  return map;
}
