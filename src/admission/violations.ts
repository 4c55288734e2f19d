import { schemaValidator } from '../schema/validator.js';

export type Enforcement = 'deny' | 'warn' | 'dryrun';

export interface Violation {
  rule: string;
  msg: string;
  enforcement: Enforcement;
  details?: unknown;
}

const validateViolations = schemaValidator<Violation[]>({
  type: 'array',
  items: {
    type: 'object',
    required: ['rule', 'msg', 'enforcement'],
    properties: { rule: { type: 'string', minLength: 1 }, msg: { type: 'string' }, enforcement: { enum: ['deny', 'warn', 'dryrun'] } },
  },
});

/**
 * The policy's answer, checked and ordered by rule then message: a bundle that returns something else is a
 * policy error, and the request is refused. The order is made here, not in Rego, where `sort` is quadratic.
 */
export function asViolations(value: unknown): Violation[] {
  if (value === undefined) throw new Error('the policy returned no value for the violations entrypoint');
  if (!validateViolations(value)) {
    const e = validateViolations.errors?.[0];
    throw new Error(`the policy returned malformed violations: ${e?.instancePath || '(root)'} ${e?.message ?? ''}`);
  }
  return value.sort(byRuleThenMessage);
}

function byRuleThenMessage(a: Violation, b: Violation): number {
  return a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : a.msg < b.msg ? -1 : a.msg > b.msg ? 1 : 0;
}

// Warnings travel back in HTTP headers, and the API server silently drops a whole warning that has a control
// character in it (Go's unicode.IsControl: C0, DEL and the C1 range, NEL U+0085 among them).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;

/**
 * Once a response's warnings pass 4096 runes in all, the API server cuts each to 256 runes wherever that
 * falls. Ours never reach it: a longer one is cut here, visibly.
 */
const WARNING_RUNES = 256;

/** "rule-id: message", the form of every denial line and warning. */
export function describeViolation(v: Violation): string {
  return `${v.rule}: ${v.msg}`.replace(CONTROL, ' ');
}

/** A warn rule's line as kubectl shows it: describeViolation, at most WARNING_RUNES code points (runes). */
export function warningOf(v: Violation): string {
  const line = describeViolation(v);
  // UTF-16 code units never fewer than code points: most lines need no count.
  if (line.length <= WARNING_RUNES) return line;
  const runes = Array.from(line);
  return runes.length <= WARNING_RUNES ? line : `${runes.slice(0, WARNING_RUNES - 1).join('')}…`;
}

export function denialMessage(denied: Violation[]): string {
  const lines = denied.map(describeViolation);
  return `Portcullis denied the request (${denied.length} rule${denied.length === 1 ? '' : 's'}): ${lines.join('; ')}`;
}

export function rulesOf(violations: Violation[], enforcement: Enforcement): string[] {
  return violations.filter((v) => v.enforcement === enforcement).map((v) => v.rule);
}
