// regex.globs_match: whether two globs of OPA's restricted syntax (characters, ".", "[...]" sets with
// ranges, each optionally followed by "+" or "*", "\" escaping) match a common string. OPA answers with
// github.com/yashtewari/glob-intersection v0.2.0; this follows its tokenizer, simplification and search
// step by step, so it gives the same answer where that search is not exact too.
import { BuiltinError, str, type Builtin } from './builtin.js';

type Flag = 'none' | 'plus' | 'star';
type Token = { type: 0; rune: number; flag: Flag } | { type: 1; flag: Flag } | { type: 2; runes: Set<number>; flag: Flag };

const FLAGS: Record<string, Flag> = { '+': 'plus', '*': 'star' };
const BACKSLASH = 0x5c;

class GlobError extends BuiltinError {}

interface Read {
  index: number;
  rune: number;
  escaped: boolean;
  end?: boolean;
}

function nextRune(index: number, input: number[]): Read {
  if (index >= input.length) return { index, rune: 0, escaped: false, end: true };
  if (input[index] === BACKSLASH) {
    if (index < input.length - 1) return { index: index + 2, rune: input[index + 1] as number, escaped: true };
    throw new GlobError('input ends with a \\ (escape) character');
  }
  return { index: index + 1, rune: input[index] as number, escaped: false };
}

function nextTokenSet(start: number, input: number[]): [number, Token] {
  const runes: number[] = [];
  let complete = false;
  let prev = 0;
  let prevExists = false;
  let r = nextRune(start, input);
  for (; !r.end; r = nextRune(r.index, input)) {
    if (!r.escaped && r.rune === 0x2d) {
      if (!prevExists) throw new GlobError("range character '-' must be preceded by a Unicode character");
      if (r.index >= input.length - 1) throw new GlobError("range character '-' must be followed by a Unicode character");
      r = nextRune(r.index, input);
      if (!r.escaped && (r.rune === 0x5d || r.rune === 0x2d)) throw new GlobError("range character '-' cannot be followed by a special symbol");
      if (r.rune < prev) throw new GlobError('range is out of order');
      for (let x = prev; x <= r.rune; x++) runes.push(x);
      prevExists = false;
    } else if (!r.escaped && r.rune === 0x5d) complete = true;
    else {
      runes.push(r.rune);
      prev = r.rune;
      prevExists = true;
    }
    if (complete) break;
  }
  if (!complete) throw new GlobError('found [ without matching ]');
  return [r.index, { type: 2, runes: new Set(runes), flag: 'none' }];
}

function tokenize(input: number[]): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  for (;;) {
    const r = nextRune(index, input);
    if (r.end) return tokens;
    index = r.index;
    let token: Token;
    const c = String.fromCodePoint(r.rune);
    if (!r.escaped && c === '.') token = { type: 1, flag: 'none' };
    else if (!r.escaped && c === ']') throw new GlobError("set-close ']' with no preceding '['");
    else if (!r.escaped && c === '[') [index, token] = nextTokenSet(index, input);
    else if (!r.escaped && FLAGS[c]) throw new GlobError(`flag '${c}' must be preceded by a non-flag`);
    else token = { type: 0, rune: r.rune, flag: 'none' };
    const f = nextRune(index, input);
    if (!f.end && !f.escaped && FLAGS[String.fromCodePoint(f.rune)]) {
      token.flag = FLAGS[String.fromCodePoint(f.rune)] as Flag;
      index = f.index;
    }
    tokens.push(token);
  }
}

function sameToken(a: Token, b: Token): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 0) return a.rune === (b as typeof a).rune;
  if (a.type === 2) {
    const o = (b as typeof a).runes;
    return a.runes.size === o.size && [...a.runes].every((x) => o.has(x));
  }
  return true;
}

/** Adjacent equal tokens that both carry a flag become one ("a*a+" is "a+"). */
function simplify(tokens: Token[]): Token[] {
  if (tokens.length === 0) return tokens;
  const simple = [tokens[0] as Token];
  let latest = tokens[0] as Token;
  for (const t of tokens.slice(1)) {
    if (t.flag !== 'none' && latest.flag !== 'none' && sameToken(t, latest)) {
      (simple[simple.length - 1] as Token).flag = t.flag === 'plus' || latest.flag === 'plus' ? 'plus' : 'star';
      continue;
    }
    latest = t;
    simple.push(t);
  }
  return simple;
}

function match(t1: Token, t2: Token): boolean {
  const [a, b] = t1.type > t2.type ? [t2, t1] : [t1, t2];
  if (a.type === 0) {
    if (b.type === 0) return a.rune === b.rune;
    if (b.type === 1) return true;
    return b.runes.has(a.rune);
  }
  if (a.type === 1) return true;
  return [...a.runes].some((x) => (b as typeof a).runes.has(x));
}

function trim(g1: Token[], g2: Token[]): [Token[], Token[]] | undefined {
  let l = 0;
  for (; l < g1.length && l < g2.length && g1[l]?.flag === 'none' && g2[l]?.flag === 'none'; l++) {
    if (!match(g1[l] as Token, g2[l] as Token)) return undefined;
  }
  if (l > 0) l--;
  let r1 = g1.length - 1;
  let r2 = g2.length - 1;
  for (; r1 >= 0 && r1 >= l && r2 >= 0 && r2 >= l && g1[r1]?.flag === 'none' && g2[r2]?.flag === 'none'; r1--, r2--) {
    if (!match(g1[r1] as Token, g2[r2] as Token)) return undefined;
  }
  if (r1 < g1.length - 1) {
    r1++;
    r2++;
  }
  return [g1.slice(l, r1 + 1), g2.slice(l, r2 + 1)];
}

function intersectNormal(g1: Token[], g2: Token[]): boolean {
  let i = 0;
  let j = 0;
  for (; i < g1.length && j < g2.length; i++, j++) {
    const a = g1[i] as Token;
    const b = g2[j] as Token;
    if (a.flag === 'none' && b.flag === 'none') {
      if (!match(a, b)) return false;
    } else return intersectSpecial(g1.slice(i), g2.slice(j));
  }
  return i === g1.length && j === g2.length;
}

function intersectSpecial(g1: Token[], g2: Token[]): boolean {
  const [flagged, other] = (g1[0] as Token).flag !== 'none' ? [g1, g2] : [g2, g1];
  const flag = (flagged[0] as Token).flag;
  if (flag === 'plus') return intersectPlus(flagged, other);
  if (flag === 'star') return intersectStar(flagged, other);
  return false;
}

function intersectPlus(plussed: Token[], other: Token[]): boolean {
  if (!match(plussed[0] as Token, other[0] as Token)) return false;
  if (intersectStar(plussed, other.slice(1))) return true;
  return (other[0] as Token).flag !== 'none' && intersectNormal(plussed.slice(1), other);
}

function intersectStar(starred: Token[], other: Token[]): boolean {
  const star = starred[0] as Token;
  const next = starred[1];
  for (let i = 0; i < other.length; i++) {
    const t = other[i] as Token;
    if (next && match(t, next)) {
      if (intersectNormal(starred.slice(1), other.slice(i))) return true;
      if (!match(t, star)) return false;
    } else if (!match(t, star)) return false;
  }
  return next === undefined;
}

function glob(text: string): Token[] {
  return simplify(tokenize(Array.from(text, (c) => c.codePointAt(0) as number)));
}

export function globsIntersect(lhs: string, rhs: string): boolean {
  const trimmed = trim(glob(lhs), glob(rhs));
  return trimmed !== undefined && intersectNormal(trimmed[0], trimmed[1]);
}

export const globBuiltins: Record<string, Builtin> = {
  'regex.globs_match': (args) => globsIntersect(str(args, 0), str(args, 1)),
};
