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

const KNOWN_REASONS = [...new Set([...Object.values(REASONS), 'forbidden AppArmor profiles'])].sort((a, b) => b.length - a.length);

/**
 * The reasons of the plugin's refusal (`violates PodSecurity "baseline:latest": host namespaces
 * (hostPID=true), privileged (container "a" must not ...)`) or warning (`would violate PodSecurity ...`),
 * the plural AppArmor reason read as the singular; undefined when the text is not one of them.
 */
export function pluginReasons(text: string): Set<string> | undefined {
  const m = /violate[s]? PodSecurity "[^"]*": /.exec(text);
  if (!m) return undefined;
  const out = new Set<string>();
  let i = m.index + m[0].length;
  while (i < text.length) {
    const reason = KNOWN_REASONS.find((r) => text.startsWith(r, i));
    if (!reason) throw new Error(`unknown PodSecurity reason at ${JSON.stringify(text.slice(i, i + 40))} in ${JSON.stringify(text)}`);
    out.add(reason === 'forbidden AppArmor profiles' ? 'forbidden AppArmor profile' : reason);
    i += reason.length;
    if (text.startsWith(' (', i)) i = closingParen(text, i + 1) + 1;
    if (text.startsWith(', ', i)) i += 2;
    else if (i < text.length) throw new Error(`unexpected ${JSON.stringify(text.slice(i, i + 20))} in ${JSON.stringify(text)}`);
  }
  return out;
}

/** The index of the parenthesis closing the one at open; parentheses inside "quoted" (Go %q) text do not count. */
function closingParen(text: string, open: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  throw new Error(`unbalanced parentheses in ${JSON.stringify(text)}`);
}

/** The plugin's reasons for the pod-security:* rules a Portcullis refusal names (`... pod-security:privileged: ...`). */
export function portcullisReasons(message: string): Set<string> {
  const out = new Set<string>();
  for (const m of message.matchAll(/pod-security:([A-Za-z_]+): /g)) {
    const reason = REASONS[m[1]!];
    if (!reason) throw new Error(`unknown check ${m[1]} in ${JSON.stringify(message)}`);
    out.add(reason);
  }
  return out;
}
