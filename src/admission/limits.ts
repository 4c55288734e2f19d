import { Type, type Static } from 'typebox';
import { ReviewError, type AdmissionRequest } from './review.js';

/**
 * What a review may hold, past the body size and nesting checked before it is parsed. Each bound is far
 * beyond real workloads (the fixture Pod has ~90 members; a large Deployment a few thousand) and keeps the
 * policy's cost in proportion: OPA's WebAssembly allocator and its object comparison slow down
 * super-linearly with thousands of findings or keys, which is where a 130 KB Pod took 10 s.
 */
export const ReviewLimits = Type.Object(
  {
    maxMembers: Type.Integer({
      minimum: 1000,
      default: 50_000,
      description: 'array elements and object members in the whole request (object and oldObject together, managedFields left out when they are dropped)',
    }),
    maxListItems: Type.Integer({
      minimum: 100,
      default: 5_000,
      description: 'elements of any one array, and comma-separated items of any one traffic.portcullis.io annotation',
    }),
    maxObjectKeys: Type.Integer({ minimum: 100, default: 1_000, description: 'members of any one object (labels, annotations, a map in a spec, ...)' }),
    maxStringBytes: Type.Integer({ minimum: 4096, default: 1024 * 1024, description: 'UTF-8 bytes of any one string or key' }),
    maxContainers: Type.Integer({ minimum: 10, default: 256, description: 'containers, initContainers and ephemeralContainers of any one pod spec, together' }),
  },
  { default: {}, additionalProperties: false, description: 'what a review may hold; past a bound it is denied in kind with code 413 naming the field (docs/limits.md)' },
);
export type ReviewLimits = Static<typeof ReviewLimits>;

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];
const TRAFFIC_ANNOTATION = 'traffic.portcullis.io/';
// A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Refuses a request beyond the limits, naming the field and the setting, a request nested deeper than
 * `maxDepth` (JSON.parse copes with any depth, but what comes after it walks the document recursively:
 * audit masking, serializing, the policy's own parser), and a string that is not text: a lone UTF-16
 * surrogate ("\ud800") parses in JSON but is not Unicode, no API server sends one (Go's decoder replaces
 * it), and the policy's own parser rejects it. One iterative pass over the parsed request; the path of a
 * field is only spelled out for the refusal.
 */
export function checkLimits(request: AdmissionRequest, limits: ReviewLimits, maxDepth = Infinity): void {
  const stack: Frame[] = [];
  let members = 0;
  const refuse = (last: string | number | undefined, what: string, setting?: keyof ReviewLimits) => {
    const at = ['request', ...stack.slice(1).map((f) => f.at), ...(last === undefined ? [] : [last])];
    return new ReviewError(`${fieldOf(at)} ${what}${setting ? ` (admission.limits.${setting})` : ''}`, request.uid, setting ? TOO_LARGE : undefined);
  };
  const text = (s: string, what: 'string' | 'key', at: string | number) => {
    // UTF-16 units never outnumber UTF-8 bytes, and never fall below a third of them.
    if (s.length > limits.maxStringBytes || (s.length * 3 > limits.maxStringBytes && Buffer.byteLength(s) > limits.maxStringBytes)) {
      throw refuse(at, `is a ${what} longer than ${limits.maxStringBytes} bytes`, 'maxStringBytes');
    }
    if (!s.isWellFormed()) {
      const lone = LONE_SURROGATE.exec(s)?.[0] ?? '';
      throw refuse(at, `is a ${what} that is not valid Unicode: it holds a lone UTF-16 surrogate (\\u${lone.charCodeAt(0).toString(16)}), which no Kubernetes API server sends`);
    }
  };
  /** Checks a container as it is entered, and pushes it to be walked. */
  const enter = (value: object, at: string | number, annotations: boolean) => {
    // The request object itself is level 1 of the review's own nesting (AdmissionReview > request).
    if (stack.length + 2 > maxDepth) {
      throw new ReviewError(`the body nests objects and arrays deeper than ${maxDepth} levels (admission.maxJsonDepth)`, request.uid);
    }
    if (Array.isArray(value)) {
      if (value.length > limits.maxListItems) throw refuse(at, `has ${value.length} items, more than ${limits.maxListItems}`, 'maxListItems');
      members += value.length;
      if (members > limits.maxMembers) throw refuse(at, `takes the request past ${limits.maxMembers} array elements and object members`, 'maxMembers');
      stack.push({ value, keys: undefined, i: 0, at, annotations: false });
      return;
    }
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length > limits.maxObjectKeys) throw refuse(at, `has ${keys.length} members, more than ${limits.maxObjectKeys}`, 'maxObjectKeys');
    members += keys.length;
    if (members > limits.maxMembers) throw refuse(at, `takes the request past ${limits.maxMembers} array elements and object members`, 'maxMembers');
    if (Array.isArray(object.containers)) {
      const count = CONTAINER_LISTS.reduce((n, list) => n + (Array.isArray(object[list]) ? (object[list] as unknown[]).length : 0), 0);
      if (count > limits.maxContainers) throw refuse(at, `has ${count} containers, init containers and ephemeral containers, more than ${limits.maxContainers}`, 'maxContainers');
    }
    stack.push({ value: object, keys, i: 0, at, annotations });
  };
  enter(request, 'request', false);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const { keys } = frame;
    const length = keys ? keys.length : (frame.value as unknown[]).length;
    if (frame.i === length) {
      stack.pop();
      continue;
    }
    const at = keys ? (keys[frame.i] as string) : frame.i;
    frame.i++;
    const member = keys ? (frame.value as Record<string, unknown>)[at as string] : (frame.value as unknown[])[at as number];
    if (typeof at === 'string') text(at, 'key', at);
    if (typeof member === 'string') {
      text(member, 'string', at);
      // The injector and the traffic-interception rule read these as comma-separated lists.
      if (frame.annotations && (at as string).startsWith(TRAFFIC_ANNOTATION)) {
        const items = countItems(member);
        if (items > limits.maxListItems) throw refuse(at, `lists ${items} items, more than ${limits.maxListItems}`, 'maxListItems');
      }
    } else if (member !== null && typeof member === 'object') {
      enter(member, at, at === 'annotations');
    }
  }
}

interface Frame {
  value: object;
  /** The keys of an object, in order; undefined for an array. */
  keys: string[] | undefined;
  /** The next member to visit. */
  i: number;
  /** How this container is reached from its parent. */
  at: string | number;
  /** Whether this is an annotations object. */
  annotations: boolean;
}

const TOO_LARGE = { code: 413, reason: 'RequestEntityTooLarge' } as const;

function countItems(list: string): number {
  let n = 1;
  for (let i = list.indexOf(','); i >= 0; i = list.indexOf(',', i + 1)) n++;
  return n;
}

/** request.object.spec.containers[0].name; keys that are not identifiers in brackets, as kubectl writes them. */
function fieldOf(path: Array<string | number>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (p.length <= 64 && /^[A-Za-z_$][\w$]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(p.length > 64 ? `${p.slice(0, 61)}...` : p)}]`;
  }
  return out;
}
