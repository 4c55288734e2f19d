const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** The shape of a JSON body, read from its bytes before (and without) parsing it. */
export interface JsonShape {
  /** Array elements and object members, all levels together. */
  members: number;
  /** Bytes of the longest string or key, as written (escapes count as written). */
  longestString: number;
}

/**
 * One pass over the bytes, strings skipped (brackets and commas inside them not counted); UTF-8
 * continuation bytes are never ASCII, so bytes are enough. Malformed JSON gets some answer, and is left to
 * JSON.parse to refuse.
 */
export function scanJson(body: Uint8Array): JsonShape {
  const n = body.length;
  let members = 0;
  let longest = 0;
  // Just past an opening bracket: the next token, unless it closes, is the first member.
  let opened = false;
  for (let i = 0; i < n; i++) {
    const c = body[i];
    if (c === SPACE || c === LF || c === CR || c === TAB) continue;
    if (opened) {
      opened = false;
      if (c !== CLOSE_OBJECT && c !== CLOSE_ARRAY) members++;
    }
    if (c === QUOTE) {
      // Skip the string: up to the next quote that is not escaped (an escape takes the byte after it).
      const start = i;
      for (i++; i < n; i++) {
        const s = body[i];
        if (s === QUOTE) break;
        if (s === BACKSLASH) i++;
      }
      if (i - start - 1 > longest) longest = i - start - 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      opened = true;
    } else if (c === COMMA) {
      members++;
    }
  }
  return { members, longestString: longest };
}
