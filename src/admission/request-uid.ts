const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * `request.uid` of an AdmissionReview body, read from its bytes without parsing the rest: what the main
 * thread needs to answer a review in kind when no decision worker could take it in time, without spending
 * the time parsing a large body that it handed to a worker to save. Only keys of the first two levels are
 * decoded; undefined when there is no string uid (or the JSON is broken before it).
 */
export function findRequestUid(body: Uint8Array): string | undefined {
  try {
    return scan(body);
  } catch {
    // A broken string escape: the review is malformed, and has no uid to answer with.
    return undefined;
  }
}

function scan(body: Uint8Array): string | undefined {
  const n = body.length;
  let depth = 0;
  // Whether each of the first two levels is an object, and its current key.
  const object = [false, false, false];
  const key: Array<string | undefined> = [undefined, undefined, undefined];
  let expectKey = false;
  for (let i = 0; i < n; i++) {
    const c = body[i];
    if (c === QUOTE) {
      const start = i;
      for (i++; i < n && body[i] !== QUOTE; i++) if (body[i] === BACKSLASH) i++;
      if (depth > 2) continue;
      const token = () => JSON.parse(Buffer.from(body.buffer, body.byteOffset + start, i - start + 1).toString('utf8')) as string;
      if (i >= n) return undefined;
      if (expectKey && object[depth]) {
        key[depth] = token();
        expectKey = false;
      } else if (depth === 2 && object[2] && key[1] === 'request' && key[2] === 'uid') {
        return token();
      }
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth <= 2) {
        object[depth] = c === 0x7b;
        key[depth] = undefined;
      }
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
      expectKey = false;
    } else if (c === COMMA) {
      expectKey = depth <= 2 && object[depth] === true;
    } else if (c === COLON) {
      expectKey = false;
    }
  }
  return undefined;
}
