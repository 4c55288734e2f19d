import { Ajv } from 'ajv';

export type Enforcement = 'deny' | 'warn' | 'dryrun';

export interface Violation {
  rule: string;
  msg: string;
  enforcement: Enforcement;
  details?: unknown;
}

const validateViolations = new Ajv({ strict: false }).compile<Violation[]>({
  type: 'array',
  items: {
    type: 'object',
    required: ['rule', 'msg', 'enforcement'],
    properties: { rule: { type: 'string', minLength: 1 }, msg: { type: 'string' }, enforcement: { enum: ['deny', 'warn', 'dryrun'] } },
  },
});

/** The policy's answer, checked: a bundle that returns something else is a policy error, and the request is refused. */
export function asViolations(value: unknown): Violation[] {
  if (value === undefined) throw new Error('the policy returned no value for the violations entrypoint');
  if (!validateViolations(value)) {
    const e = validateViolations.errors?.[0];
    throw new Error(`the policy returned malformed violations: ${e?.instancePath || '(root)'} ${e?.message ?? ''}`);
  }
  return value;
}

// Warnings travel back in HTTP headers: control characters would corrupt them.
const CONTROL = /[\u0000-\u001f\u007f]+/g;

/** "rule-id: message", the form of every denial line and warning. */
export function describeViolation(v: Violation): string {
  return `${v.rule}: ${v.msg.replace(CONTROL, ' ')}`;
}

export function denialMessage(denied: Violation[]): string {
  const lines = denied.map(describeViolation);
  return `Portcullis denied the request (${denied.length} rule${denied.length === 1 ? '' : 's'}): ${lines.join('; ')}`;
}

export function rulesOf(violations: Violation[], enforcement: Enforcement): string[] {
  return violations.filter((v) => v.enforcement === enforcement).map((v) => v.rule);
}
