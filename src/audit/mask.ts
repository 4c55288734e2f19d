/** What replaces a masked value, as OPA's decision log masking writes it. */
export const REDACTED = '**REDACTED**';

/** Input fields masked whatever the configuration says: credentials in headers, Secret contents. */
export const DEFAULT_MASKS = [
  '/attributes/request/http/headers/authorization',
  '/attributes/request/http/headers/proxy-authorization',
  '/attributes/request/http/headers/cookie',
  '/attributes/request/http/headers/set-cookie',
  '/attributes/request/http/headers/x-forwarded-client-cert',
  '/headers/authorization',
  '/headers/cookie',
  '/mesh/jwt/token',
];

const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const SECRET_NAME = /pass(word)?|secret|token|api[-_]?key|private[-_]?key|credential/i;

/**
 * Returns a masked copy of a policy input; the original is untouched because the decision may still be
 * using it. Masks are JSON pointers (RFC 6901) into the input; beyond them, JWTs are blanked wherever they
 * appear, and Kubernetes Secrets and secret-looking env values in AdmissionReview objects are removed.
 */
export class Masker {
  private readonly pointers: string[][];

  constructor(extra: string[] = []) {
    this.pointers = [...DEFAULT_MASKS, ...extra].map(parsePointer);
  }

  mask(input: unknown): { input: unknown; masked: string[] } {
    const masked: string[] = [];
    const copy = scrub(input, '', masked);
    for (const pointer of this.pointers) {
      if (redactAt(copy, pointer)) masked.push(formatPointer(pointer));
    }
    maskAdmissionObjects(copy, masked);
    return { input: copy, masked };
  }
}

/** Deep copy that blanks JWT-looking strings on the way. */
function scrub(value: unknown, path: string, masked: string[]): unknown {
  if (typeof value === 'string') {
    if (!value.includes('eyJ')) return value;
    const out = value.replace(JWT, REDACTED);
    if (out !== value) masked.push(path || '/');
    return out;
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => scrub(v, `${path}/${i}`, masked));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, `${path}/${escape(k)}`, masked);
  return out;
}

function maskAdmissionObjects(input: unknown, masked: string[]): void {
  const request = (input as { request?: Record<string, unknown> } | null)?.request;
  if (!request || typeof request !== 'object') return;
  for (const field of ['object', 'oldObject']) {
    const obj = request[field] as Record<string, unknown> | null | undefined;
    if (!obj || typeof obj !== 'object') continue;
    const base = `/request/${field}`;
    if (obj.kind === 'Secret') {
      for (const key of ['data', 'stringData']) {
        if (obj[key] !== undefined) {
          obj[key] = REDACTED;
          masked.push(`${base}/${key}`);
        }
      }
      // kubectl apply keeps the whole previous object, data included, in this annotation.
      const annotations = (obj.metadata as { annotations?: Record<string, unknown> } | undefined)?.annotations;
      const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';
      if (annotations?.[lastApplied] !== undefined) {
        annotations[lastApplied] = REDACTED;
        masked.push(`${base}/metadata/annotations/${escape(lastApplied)}`);
      }
    }
    maskEnv(obj, base, masked);
  }
}

/** Walks pod specs wherever they are (Pod, template of a Deployment, CronJob's jobTemplate) and masks literal secret-like env values. */
function maskEnv(node: unknown, path: string, masked: string[]): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    node.forEach((v, i) => maskEnv(v, `${path}/${i}`, masked));
    return;
  }
  const obj = node as Record<string, unknown>;
  if (Array.isArray(obj.env)) {
    obj.env.forEach((e: unknown, i) => {
      const env = e as { name?: unknown; value?: unknown };
      if (typeof env?.name === 'string' && env.value !== undefined && SECRET_NAME.test(env.name)) {
        env.value = REDACTED;
        masked.push(`${path}/env/${i}/value`);
      }
    });
  }
  for (const [k, v] of Object.entries(obj)) if (k !== 'env' && typeof v === 'object') maskEnv(v, `${path}/${escape(k)}`, masked);
}

function redactAt(root: unknown, pointer: string[]): boolean {
  if (pointer.length === 0) return false;
  let node = root;
  for (const key of pointer.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string, unknown>)[key];
  }
  const last = pointer[pointer.length - 1] as string;
  if (node === null || typeof node !== 'object' || !(last in node)) return false;
  (node as Record<string, unknown>)[last] = REDACTED;
  return true;
}

export function parsePointer(pointer: string): string[] {
  if (pointer !== '' && !pointer.startsWith('/')) throw new Error(`mask ${JSON.stringify(pointer)} is not a JSON pointer (it must start with "/")`);
  return pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function formatPointer(segments: string[]): string {
  return segments.map((s) => `/${escape(s)}`).join('');
}

function escape(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}
