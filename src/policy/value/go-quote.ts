/**
 * strconv.Quote and its relatives: printable characters as they are, the rest as Go escapes them
 * (\a \b \f \n \r \t \v, \xHH below U+0020, \uHHHH, \UHHHHHHHH).
 */
export function goQuoteString(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteChar(ch, '"', false);
  return `${out}"`;
}

export function goQuoteAscii(s: string): string {
  let out = '"';
  for (const ch of s) out += quoteChar(ch, '"', true);
  return `${out}"`;
}

export function quoteRune(r: string, ascii: boolean): string {
  return `'${quoteChar(r, "'", ascii)}'`;
}

function quoteChar(ch: string, quote: string, ascii: boolean): string {
  const c = ch.codePointAt(0) as number;
  if (ch === quote || ch === '\\') return `\\${ch}`;
  if (ascii ? c < 0x80 && isPrint(c) : isPrint(c)) return ch;
  switch (c) {
    case 7:
      return '\\a';
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
    case 11:
      return '\\v';
  }
  if (c < 0x20 || c === 0x7f) return `\\x${c.toString(16).padStart(2, '0')}`;
  if (c < 0x10000) return `\\u${c.toString(16).padStart(4, '0')}`;
  return `\\U${c.toString(16).padStart(8, '0')}`;
}

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
export function isPrint(c: number): boolean {
  if (c === 0x20) return true;
  if (c < 0x20 || (c >= 0x7f && c < 0xa0)) return false;
  return PRINTABLE.test(String.fromCodePoint(c));
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
