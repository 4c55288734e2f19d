import { parseMediaType } from '../../policy/value/media-type.js';

/** A multipart body Go's mime/multipart reader fails on; the message is Go's. */
export class MultipartError extends Error {
  override name = 'MultipartError';
}

export interface FormPart {
  name: string;
  contentType: string;
  value: Buffer;
}

/**
 * The form fields of a multipart/form-data body as Go's multipart.Reader yields them to opa-envoy-plugin:
 * the preamble skipped, parts split on "\r\n--boundary" (or "\n--boundary" when the first delimiter
 * line ends in a bare "\n"), headers read as MIME headers, quoted-printable parts decoded, parts without a
 * form name skipped. The body is complete here, so a missing boundary is an "unexpected EOF" as Go's
 * reader reports it at the end of its input.
 */
export function readMultipart(body: Buffer, boundary: string): FormPart[] {
  // Latin-1 maps bytes to characters one to one, so offsets are byte offsets.
  const s = body.toString('latin1');
  const b = Buffer.from(boundary).toString('latin1');
  if (b === '') throw new MultipartError('multipart: boundary is empty');
  let nl = '\r\n';
  const dashBoundary = `--${b}`;
  const dashBoundaryDash = `--${b}--`;
  let at = 0;
  let partsRead = 0;
  const parts: FormPart[] = [];

  const readLine = (): { line: string; eof: boolean } => {
    const i = s.indexOf('\n', at);
    if (i < 0) {
      const line = s.slice(at);
      at = s.length;
      return { line, eof: true };
    }
    const line = s.slice(at, i + 1);
    at = i + 1;
    return { line, eof: false };
  };
  const isFinal = (line: string) => {
    if (!line.startsWith(dashBoundaryDash)) return false;
    const rest = line.slice(dashBoundaryDash.length).replace(/^[ \t]+/, '');
    return rest.length === 0 || rest === nl;
  };
  const isDelimiter = (line: string) => {
    if (!line.startsWith(dashBoundary)) return false;
    const rest = line.slice(dashBoundary.length).replace(/^[ \t]+/, '');
    if (partsRead === 0 && rest === '\n') nl = '\n';
    return rest === nl;
  };

  for (;;) {
    // nextPart: find the next delimiter line.
    let expectNewPart = false;
    let found = false;
    for (;;) {
      const { line, eof } = readLine();
      if (eof && isFinal(line)) return parts;
      if (eof) throw new MultipartError('multipart: NextPart: EOF');
      if (isDelimiter(line)) {
        partsRead++;
        found = true;
        break;
      }
      if (isFinal(line)) return parts;
      if (expectNewPart) throw new MultipartError(`multipart: expecting a new Part; got line ${goQuote(line)}`);
      if (partsRead === 0) continue;
      if (line === nl) {
        expectNewPart = true;
        continue;
      }
      throw new MultipartError(`multipart: unexpected line in Next(): ${goQuote(line)}`);
    }
    if (!found) return parts;
    const headers = readHeaders();
    // A part whose headers run into the end of the body ends the reading, as Go's io.EOF does.
    if (!headers) return parts;
    const { value, complete } = readBody(`${nl}--${b}`, dashBoundary);
    let name = '';
    try {
      const d = parseMediaType(headers.get('content-disposition') ?? '');
      if (d.type === 'form-data') name = d.params.name ?? '';
    } catch {
      name = '';
    }
    if (name === '') continue;
    if (!complete) throw new MultipartError('unexpected EOF');
    let bytes: Buffer = Buffer.from(value, 'latin1');
    if ((headers.get('content-transfer-encoding') ?? '').toLowerCase() === 'quoted-printable') bytes = quotedPrintable(bytes);
    parts.push({ name: Buffer.from(name, 'latin1').toString('utf8'), contentType: headers.get('content-type') ?? '', value: bytes });
  }

  /** textproto's MIME header block up to the empty line; undefined when the body ends first. */
  function readHeaders(): Map<string, string> | undefined {
    const headers = new Map<string, string>();
    let first = true;
    for (;;) {
      const i = s.indexOf('\n', at);
      let line = i < 0 ? s.slice(at) : s.slice(at, i);
      if (i < 0 && line === '') return undefined;
      at = i < 0 ? s.length : i + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') return headers;
      if (first && /^[ \t]/.test(line)) throw new MultipartError(`malformed MIME header initial line: ${line}`);
      first = false;
      // Continuation lines belong to the previous header.
      while (at < s.length && (s[at] === ' ' || s[at] === '\t')) {
        const j = s.indexOf('\n', at);
        let more = j < 0 ? s.slice(at) : s.slice(at, j);
        at = j < 0 ? s.length : j + 1;
        if (more.endsWith('\r')) more = more.slice(0, -1);
        line += ` ${more.trim()}`;
      }
      const colon = line.indexOf(':');
      if (colon < 0) throw new MultipartError(`malformed MIME header line: ${line}`);
      const key = line.slice(0, colon);
      if (key === '' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) throw new MultipartError(`malformed MIME header line: ${line}`);
      const lower = key.toLowerCase();
      if (!headers.has(lower)) headers.set(lower, line.slice(colon + 1).trim());
      if (i < 0) return undefined;
    }
  }

  /** The part's bytes up to the next boundary (scanUntilBoundary); `complete` false when the body ends first. */
  function readBody(nlDashBoundary: string, dash: string): { value: string; complete: boolean } {
    const start = at;
    // At the start of a part's body, a delimiter without the line break before it ends an empty part.
    if (s.startsWith(dash, at) && boundaryFollows(s, at + dash.length)) return { value: '', complete: true };
    let from = at;
    for (;;) {
      const i = s.indexOf(nlDashBoundary, from);
      if (i < 0) {
        at = s.length;
        return { value: s.slice(start), complete: false };
      }
      if (boundaryFollows(s, i + nlDashBoundary.length)) {
        at = i;
        return { value: s.slice(start, i), complete: true };
      }
      from = i + 1;
    }
  }
}

/** matchAfterPrefix: the end of input, white space, a line break or "--" after the boundary makes it one. */
function boundaryFollows(s: string, i: number): boolean {
  if (i >= s.length) return true;
  const c = s[i];
  if (c === ' ' || c === '\t' || c === '\r' || c === '\n') return true;
  return c === '-' && (i + 1 >= s.length ? false : s[i + 1] === '-');
}

/** %q of Go for a byte string read as Latin-1. */
function goQuote(line: string): string {
  let out = '"';
  for (const ch of line) {
    const c = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80) out += `\\x${c.toString(16)}`;
    else out += ch;
  }
  return `${out}"`;
}

/** mime/quotedprintable's reader, leniently: "=XX" escapes, soft line breaks ("=\r\n", "=\n") removed. */
function quotedPrintable(b: Buffer): Buffer {
  const s = b.toString('latin1').replace(/=\r?\n/g, '');
  return Buffer.from(
    s.replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
}
