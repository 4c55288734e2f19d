import { RE2 } from 're2-wasm';
import { BuiltinError, int, str, type Builtin } from './builtin.js';

/**
 * The regex.* builtins that the WebAssembly leaves to its host, with RE2 (Google's, compiled to
 * WebAssembly; Go's regexp implements the same syntax and semantics) and Go's rules for what "all
 * matches" means: an empty match right after the previous match does not count.
 */
const compiled = new Map<string, RE2>();

function regex(pattern: string): RE2 {
  let re = compiled.get(pattern);
  if (!re) {
    try {
      re = new RE2(pattern, 'gu');
    } catch (err) {
      throw new BuiltinError(`error parsing regexp: ${(err as Error).message}`);
    }
    if (compiled.size >= 100) compiled.delete(compiled.keys().next().value as string);
    compiled.set(pattern, re);
  }
  return re;
}

interface Match {
  start: number;
  end: number;
  groups: Array<string | undefined>;
  named: Record<string, string> | undefined;
}

/** FindAll with Go's rule for empty matches; at most n (all when n < 0). */
function findAll(re: RE2, s: string, n: number): Match[] {
  const out: Match[] = [];
  let pos = 0;
  let prevEnd = -1;
  while (pos <= s.length && (n < 0 || out.length < n)) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + (m[0] ?? '').length;
    if (start === end && start === prevEnd) {
      // An empty match abutting the previous one is skipped; move on by one character.
      pos = start + (s.codePointAt(start) !== undefined && (s.codePointAt(start) as number) > 0xffff ? 2 : 1);
      continue;
    }
    out.push({ start, end, groups: [...m], named: m.groups });
    prevEnd = end;
    pos = end === start ? start + ((s.codePointAt(start) ?? 0) > 0xffff ? 2 : 1) : end;
  }
  return out;
}

/** Regexp.Expand: $1, ${1}, $name, ${name} and $$; a name is the longest run of letters, digits and _. */
function expand(template: string, m: Match): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '$') {
      out += c;
      continue;
    }
    const rest = template.slice(i + 1);
    if (rest.startsWith('$')) {
      out += '$';
      i++;
      continue;
    }
    const braced = /^\{([A-Za-z0-9_]+)\}/.exec(rest);
    const bare = braced ? undefined : /^[A-Za-z0-9_]+/.exec(rest);
    const name = braced?.[1] ?? bare?.[0];
    if (name === undefined) {
      out += '$';
      continue;
    }
    i += (braced ?? bare)?.[0].length ?? 0;
    if (/^[0-9]+$/.test(name)) out += m.groups[Number(name)] ?? '';
    else out += m.named?.[name] ?? '';
  }
  return out;
}

/** Regexp.Split(s, -1). */
function split(re: RE2, s: string): string[] {
  if (s === '' && re.source !== '') return [''];
  const parts: string[] = [];
  let beg = 0;
  let end = 0;
  for (const m of findAll(re, s, -1)) {
    end = m.start;
    if (m.end !== 0) parts.push(s.slice(beg, end));
    beg = m.end;
  }
  if (end !== s.length) parts.push(s.slice(beg));
  return parts;
}

/**
 * regex.template_match: the text between the delimiters is a regular expression, the rest is literal,
 * and the whole string must match.
 */
function templateMatch(args: unknown[]): boolean {
  const template = str(args, 0);
  const value = str(args, 1);
  const open = str(args, 2);
  const close = str(args, 3);
  let pattern = '^';
  let i = 0;
  while (i < template.length) {
    const a = template.indexOf(open, i);
    if (a < 0) {
      pattern += quoteMeta(template.slice(i));
      break;
    }
    let depth = 0;
    let b = -1;
    for (let j = a; j < template.length; j++) {
      if (template.startsWith(open, j)) depth++;
      else if (template.startsWith(close, j)) {
        depth--;
        if (depth === 0) {
          b = j;
          break;
        }
      }
    }
    if (b < 0) throw new BuiltinError(`unbalanced braces in ${JSON.stringify(template)}`);
    pattern += `${quoteMeta(template.slice(i, a))}(${template.slice(a + open.length, b)})`;
    i = b + close.length;
  }
  const re = regex(`${pattern}$`);
  re.lastIndex = 0;
  return re.test(value);
}

function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

export const regexBuiltins: Record<string, Builtin> = {
  'regex.split': (args) => split(regex(str(args, 0)), str(args, 1)),
  'regex.find_n': (args) => {
    const re = regex(str(args, 0));
    const s = str(args, 1);
    const n = int(args, 2);
    return findAll(re, s, n).map((m) => s.slice(m.start, m.end));
  },
  'regex.replace': (args) => {
    const s = str(args, 0);
    const re = regex(str(args, 1));
    const template = str(args, 2);
    let out = '';
    let last = 0;
    for (const m of findAll(re, s, -1)) {
      out += s.slice(last, m.start) + expand(template, m);
      last = m.end;
    }
    return out + s.slice(last);
  },
  'regex.template_match': templateMatch,
};
