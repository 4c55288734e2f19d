import { BuiltinError, str, type Builtin } from './builtin.js';

interface Version {
  major: bigint;
  minor: bigint;
  patch: bigint;
  pre: string;
}

const IDENTIFIERS = /^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/;

function numeric(s: string): bigint | undefined {
  if (!/^[0-9]+$/.test(s) || (s.length > 1 && s[0] === '0')) return undefined;
  const n = BigInt(s);
  return n > 9223372036854775807n ? undefined : n;
}

/** OPA's semver.Parse: an optional leading "v", MAJOR.MINOR.PATCH, -pre-release and +metadata as SemVer 2.0.0 spells them. */
function parse(text: string): Version | undefined {
  let v = text.startsWith('v') ? text.slice(1) : text;
  const plus = v.indexOf('+');
  if (plus >= 0) {
    if (!IDENTIFIERS.test(v.slice(plus + 1))) return undefined;
    v = v.slice(0, plus);
  }
  let pre = '';
  const dash = v.indexOf('-');
  if (dash >= 0) {
    pre = v.slice(dash + 1);
    if (!IDENTIFIERS.test(pre) || pre.split('.').some((id) => id.length > 1 && id[0] === '0' && /^[0-9]+$/.test(id))) return undefined;
    v = v.slice(0, dash);
  }
  const parts = v.split('.');
  if (parts.length !== 3) return undefined;
  const [major, minor, patch] = parts.map(numeric);
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  return { major, minor, patch, pre };
}

function cmp(a: bigint, b: bigint): number {
  return a > b ? 1 : a < b ? -1 : 0;
}

function compare(a: Version, b: Version): number {
  const c = cmp(a.major, b.major) || cmp(a.minor, b.minor) || cmp(a.patch, b.patch);
  if (c !== 0 || a.pre === b.pre) return c;
  if (a.pre === '') return 1;
  if (b.pre === '') return -1;
  const x = a.pre.split('.');
  const y = b.pre.split('.');
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined) return q === undefined ? 0 : -1;
    if (q === undefined) return 1;
    const pn = /^[0-9]+$/.test(p);
    const qn = /^[0-9]+$/.test(q);
    if (pn && !qn) return -1;
    if (!pn && qn) return 1;
    const c2 = pn ? cmp(BigInt(p), BigInt(q)) : p > q ? 1 : p < q ? -1 : 0;
    if (c2 !== 0) return c2;
  }
}

export const semverBuiltins: Record<string, Builtin> = {
  'semver.is_valid': (args) => typeof args[0] === 'string' && parse(args[0]) !== undefined,
  'semver.compare': (args) => {
    const a = parse(str(args, 0));
    if (!a) throw new BuiltinError(`operand 1: string ${String(args[0])} is not a valid SemVer`);
    const b = parse(str(args, 1));
    if (!b) throw new BuiltinError(`operand 2: string ${String(args[1])} is not a valid SemVer`);
    return compare(a, b);
  },
};
