import { formatPointer, parsePointer } from '../policy/json-pointer.js';
import { stringify } from '../policy/value/raw-number.js';

/** What replaces a masked value, as OPA's decision log masking writes it. */
export const REDACTED = '**REDACTED**';

/** Input fields masked whatever the configuration says: credentials in headers, Secret contents. */
const DEFAULT_MASKS = [
  '/attributes/request/http/headers/authorization',
  '/attributes/request/http/headers/proxy-authorization',
  '/attributes/request/http/headers/cookie',
  '/attributes/request/http/headers/set-cookie',
  '/attributes/request/http/headers/x-forwarded-client-cert',
  '/headers/authorization',
  '/headers/cookie',
  '/mesh/jwt/token',
];

const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const SECRET_NAME = /pass(word)?|secret|token|api[-_]?key|private[-_]?key|credential/i;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

type Path = Array<string | number>;

/** A policy input already masked and serialized for the audit line, with the pointers that were masked. */
export interface SerializedInput {
  json: string;
  masked: string[];
}

/**
 * Masks a policy input before it is logged. The input is never changed (the decision may still hold it):
 * only the objects on the way to a masked field are copied, the rest is shared, which keeps masking cheap
 * on large AdmissionReviews. Masks are JSON pointers (RFC 6901) into the input; Kubernetes Secrets and
 * secret-looking literal env values in AdmissionReview objects are masked too. JWTs are blanked in the
 * serialized line by scrubTokens, wherever they appear.
 */
export class Masker {
  private readonly pointers: string[][];

  constructor(extra: string[] = []) {
    this.pointers = [...DEFAULT_MASKS, ...extra].map((p) => {
      try {
        return parsePointer(p);
      } catch (err) {
        throw new Error(`mask ${(err as Error).message}`);
      }
    });
  }

  /** The masked input as JSON, for an input serialized where it was decided (the admission decision workers). */
  serialize(input: unknown): SerializedInput {
    const { input: masked, masked: paths } = this.mask(input);
    return { json: stringify(masked), masked: paths };
  }

  mask(input: unknown): { input: unknown; masked: string[] } {
    const masked: string[] = [];
    let out = input;
    for (const pointer of this.pointers) {
      if (has(out, pointer)) {
        out = setIn(out, pointer, REDACTED);
        masked.push(formatPointer(pointer));
      }
    }
    for (const path of admissionSecrets(out)) {
      out = setIn(out, path, REDACTED);
      masked.push(formatPointer(path));
    }
    return { input: out, masked };
  }
}

/** Blanks JWTs in serialized JSON; a token never contains a quote, so the JSON stays valid. */
export function scrubTokens(json: string): string {
  return json.includes('eyJ') ? json.replace(JWT, REDACTED) : json;
}

/** Paths of Secret contents and secret-looking literal env values in an AdmissionReview input. */
function admissionSecrets(input: unknown): Path[] {
  const request = (input as { request?: Record<string, unknown> } | null)?.request;
  if (!request || typeof request !== 'object') return [];
  const paths: Path[] = [];
  for (const field of ['object', 'oldObject']) {
    const obj = request[field] as Record<string, unknown> | null | undefined;
    if (!obj || typeof obj !== 'object') continue;
    const base: Path = ['request', field];
    if (obj.kind === 'Secret') {
      for (const key of ['data', 'stringData']) if (obj[key] !== undefined) paths.push([...base, key]);
      // kubectl apply keeps the whole previous object, data included, in this annotation.
      const annotations = (obj.metadata as { annotations?: Record<string, unknown> } | undefined)?.annotations;
      if (annotations?.[LAST_APPLIED] !== undefined) paths.push([...base, 'metadata', 'annotations', LAST_APPLIED]);
    }
    findEnv(obj, base, paths);
  }
  return paths;
}

/** Walks pod specs wherever they are (Pod, a Deployment's template, a CronJob's jobTemplate); `path` is one stack, copied only for a match. */
function findEnv(node: unknown, path: Path, out: Path[]): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      path.push(i);
      findEnv(node[i], path, out);
      path.pop();
    }
    return;
  }
  const obj = node as Record<string, unknown>;
  for (const key in obj) {
    const value = obj[key];
    if (value === null || typeof value !== 'object') continue;
    if (key === 'env' && Array.isArray(value)) {
      value.forEach((e: { name?: unknown; value?: unknown } | null, i) => {
        if (typeof e?.name === 'string' && e.value !== undefined && SECRET_NAME.test(e.name)) out.push([...path, 'env', i, 'value']);
      });
    } else {
      path.push(key);
      findEnv(value, path, out);
      path.pop();
    }
  }
}

function has(root: unknown, path: Path): boolean {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return false;
    node = (node as Record<string | number, unknown>)[key];
  }
  return path.length > 0;
}

/** A copy of root with `value` at path; only the containers along the path are copied. */
function setIn(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path as [string | number, ...Path];
  const node = root as Record<string | number, unknown>;
  const copy = (Array.isArray(node) ? [...node] : { ...node }) as Record<string | number, unknown>;
  copy[key] = setIn(node[key], rest, value);
  return copy;
}

