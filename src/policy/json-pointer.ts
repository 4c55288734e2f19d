/** RFC 6901 JSON pointers, as used by mask paths, JSON Patch operations and the paths they report. */

/** One reference token: "~" is escaped before "/", otherwise the "~" of "~1" would be escaped again. */
export function pointerSegment(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

export function formatPointer(segments: Array<string | number>): string {
  return segments.map((s) => `/${pointerSegment(s)}`).join('');
}

/** The reference tokens of a pointer; "" is the whole document. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`${JSON.stringify(pointer)} is not a JSON pointer (it must start with "/")`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}
