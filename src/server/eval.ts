import { creationRequest, judgeRequest } from '../admission/judge.js';
import { Injector } from '../admission/injection/injector.js';
import { PolicyEngine } from '../policy/engine.js';
import { BundleManager } from '../policy/manager.js';
import { DataOverlay } from '../policy/overlay.js';
import type { EvalPolicy, EvalPolicyOptions } from '../posture/eval/command.js';
import { bundleConfigs } from './bundles.js';
import { loadConfig, parseConfig } from './config.js';
import { judgeDeps } from './judge-deps.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * The proxy's bootstrap inlines the mesh trust bundle, which a dry run away from the cluster does not have.
 * This certificate stands in for it (values.sds.caBundle, when set, is used instead): a self-signed P-256 CA
 * made once with openssl, its key thrown away, so it signs nothing and no cluster trusts it. Fixed rather
 * than made per run: the same manifests give the same patch in every run (CI can diff it), and an RSA key
 * made per run cost a CI job 0.1–1 s for a certificate nobody uses.
 */
export const DRY_RUN_TRUST_BUNDLE = `-----BEGIN CERTIFICATE-----
MIICBzCCAa2gAwIBAgIUWciJGRhr5g0DQ4USKZiaW+hgnN4wCgYIKoZIzj0EAwIw
UDETMBEGA1UECgwKUG9ydGN1bGxpczE5MDcGA1UEAwwwcG9ydGN1bGxpcyBldmFs
IGRyeSBydW4gKG5vIGNsdXN0ZXIgdHJ1c3RzIHRoaXMpMCAXDTI2MTIwMzE2MzA0
NFoYDzIxMjYxMTA5MTYzMDQ0WjBQMRMwEQYDVQQKDApQb3J0Y3VsbGlzMTkwNwYD
VQQDDDBwb3J0Y3VsbGlzIGV2YWwgZHJ5IHJ1biAobm8gY2x1c3RlciB0cnVzdHMg
dGhpcykwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQKNqy3OGuJDzhFbNq4WjlN
DKydLHCLeePb0VKCdTh25idym2Wxm1Gws8h2PIBs1dPncHmShclyry+E+pD4N4me
o2MwYTAdBgNVHQ4EFgQUTYBQ916lYNHTo3HScvHZm2+Ci5wwHwYDVR0jBBgwFoAU
TYBQ916lYNHTo3HScvHZm2+Ci5wwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8E
BAMCAQYwCgYIKoZIzj0EAwIDSAAwRQIhALnLNRDXl6rd45cpttJRPIYUn3uDappT
Nc5zvZqKaClYAiBGeLxTjxMc6wXje0qXL3dUFmJORfr+XbNs3HxDWdWufw==
-----END CERTIFICATE-----
`;

/** The user the reviews of `portcullis eval` name. */
export const EVAL_USER = 'portcullis:eval';

/**
 * What `portcullis eval` decides with, built as `portcullis serve` builds it: the configuration (its
 * policy bundles, data, keys, injection template and cluster facts), with --bundle and --data in place of
 * its bundles and data file. A bundle that is refused or cannot be fetched is an error, not a wait.
 */
export const evalPolicy: EvalPolicy = async (options: EvalPolicyOptions) => {
  let config = await loadConfig(options.config);
  if (options.bundle || options.data) {
    const bundle = options.bundle ? [{ name: 'eval', ...(/^https?:\/\//.test(options.bundle) ? { url: options.bundle } : { path: options.bundle }) }] : undefined;
    config = parseConfig({ ...config, policy: { ...config.policy, ...(bundle ? { bundles: bundle } : {}), ...(options.data ? { dataFile: options.data } : {}) } }, options.config ?? 'defaults');
  }
  const engine = new PolicyEngine({ maxMemoryPages: config.policy.maxMemoryPages, dataChecks: config.policy.dataChecks });
  const bundles = new BundleManager(engine, await bundleConfigs(config.policy), quiet);
  const overlay = new DataOverlay(engine, config.policy.data, config.policy.dataFile, quiet);
  const injector = new Injector(config.admission.injection, config.cluster, quiet);
  const close = async () => {
    await bundles.stop();
    overlay.stop();
    injector.stop();
  };
  try {
    await overlay.start();
    await injector.start();
    injector.setTrustBundle(DRY_RUN_TRUST_BUNDLE);
    const failed = new Promise<never>((_, reject) => bundles.once('failed', (status) => reject(new Error(`bundle ${status.name} (${status.source}): ${status.lastError}`))));
    bundles.start();
    await Promise.race([bundles.whenReady(config.policy.readyTimeoutSeconds * 1000), failed]);
  } catch (err) {
    await close();
    throw err;
  }
  const deps = judgeDeps(config, injector);
  return {
    snapshot: engine.current(),
    judge: (snapshot, object, namespace) => judgeRequest(snapshot, deps, creationRequest(object, EVAL_USER), namespace, { mutate: true }),
    close,
  };
};
