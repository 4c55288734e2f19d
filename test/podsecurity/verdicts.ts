// Portcullis' Pod Security verdicts, read the way the differential compares them with the PodSecurity
// admission plugin's: the check ids, each mapped to the reason the plugin prints for it.

/** The reason the plugin prints per check (policy/check_*.go); both seccomp and both procMount checks share one. */
export const REASONS: Record<string, string> = {
  hostNamespaces: 'host namespaces',
  privileged: 'privileged',
  capabilities_baseline: 'non-default capabilities',
  hostPathVolumes: 'hostPath volumes',
  hostPorts: 'hostPort',
  hostProbesAndHostLifecycle: 'probe or lifecycle host',
  appArmorProfile: 'forbidden AppArmor profile',
  seLinuxOptions: 'seLinuxOptions',
  procMount: 'procMount',
  seccompProfile_baseline: 'seccompProfile',
  sysctls: 'forbidden sysctls',
  windowsHostProcess: 'hostProcess',
  restrictedVolumes: 'restricted volume types',
  allowPrivilegeEscalation: 'allowPrivilegeEscalation != false',
  runAsNonRoot: 'runAsNonRoot != true',
  runAsUser: 'runAsUser=0',
  seccompProfile_restricted: 'seccompProfile',
  capabilities_restricted: 'unrestricted capabilities',
  procMount_restricted: 'procMount',
};

/** The rules other than pod-security:* that would also judge the corpus' objects (labels, images, ...). */
export const OTHER_RULES = [
  'sidecar-required', 'no-privileged', 'no-host-namespaces', 'capabilities-allowlist', 'no-default-service-account',
  'required-labels', 'image-registry-allowlist', 'image-tag-pinned', 'traffic-interception',
];

/** Policy data that exempts the given namespaces (globs) from every rule but pod-security:*. */
export function podSecurityOverlay(namespaces: string[]): Record<string, unknown> {
  return { portcullis: { config: { exemptions: { rules: Object.fromEntries(OTHER_RULES.map((r) => [r, { namespaces }])) } } } };
}

/** The checks whose pod-security:* rule denies, from the violations entrypoint's answer. */
export function deniedChecks(violations: unknown): Set<string> {
  const out = new Set<string>();
  for (const v of violations as Array<{ rule: string; enforcement: string }>) {
    if (v.enforcement === 'deny' && v.rule.startsWith('pod-security:')) out.add(v.rule.slice('pod-security:'.length));
  }
  return out;
}
