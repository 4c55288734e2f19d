import { BuiltinError, str, type Builtin } from './builtin.js';

/**
 * Go's base64.StdEncoding / URLEncoding DecodeString: padding required, "\r" and "\n" skipped anywhere,
 * any other character outside the alphabet (or misplaced padding, or text after it) refused. Trailing
 * bits are not checked (the encodings are not Strict). Undefined when Go would return an error.
 */
export function goBase64Decode(s: string, url: boolean): Buffer | undefined {
  const clean = s.includes('\r') || s.includes('\n') ? s.replace(/[\r\n]/g, '') : s;
  if (clean.length % 4 !== 0) return undefined;
  if (!(url ? URL_ALPHABET : STD_ALPHABET).test(clean)) return undefined;
  return Buffer.from(clean, url ? 'base64url' : 'base64');
}

const STD_ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_ALPHABET = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * OPA's base64url.decode: padding is added when the text has none (RFC 7515 appendix C), a length of 1
 * modulo 4 is refused, then the padded URL alphabet is decoded as Go decodes it.
 */
export function base64UrlDecode(s: string): Buffer {
  let padded = s;
  if (!s.endsWith('=')) {
    const rem = s.length % 4;
    if (rem === 1) throw new BuiltinError(`illegal base64url string: ${s}`);
    if (rem === 2) padded += '==';
    else if (rem === 3) padded += '=';
  }
  const out = goBase64Decode(padded, true);
  if (!out) throw new BuiltinError(`illegal base64 data in ${JSON.stringify(s)}`);
  return out;
}

export const base64Builtins: Record<string, Builtin> = {
  'base64.decode': (args) => {
    const out = goBase64Decode(str(args, 0), false);
    if (!out) throw new BuiltinError('illegal base64 data');
    return out.toString('utf8');
  },
  'base64.is_valid': (args) => goBase64Decode(str(args, 0), false) !== undefined,
  'base64url.decode': (args) => base64UrlDecode(str(args, 0)).toString('utf8'),
  'base64url.encode_no_pad': (args) => Buffer.from(str(args, 0)).toString('base64url'),
  'hex.encode': (args) => Buffer.from(str(args, 0)).toString('hex'),
  'hex.decode': (args) => {
    const s = str(args, 0);
    if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new BuiltinError(`invalid hex: ${s}`);
    return Buffer.from(s, 'hex').toString('utf8');
  },
};
