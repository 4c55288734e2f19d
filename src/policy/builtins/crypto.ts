import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { str, type Builtin } from './builtin.js';

const digest = (alg: string) => (args: unknown[]) => createHash(alg).update(str(args, 0)).digest('hex');
const hmac = (alg: string) => (args: unknown[]) => createHmac(alg, str(args, 1)).update(str(args, 0)).digest('hex');

export const cryptoBuiltins: Record<string, Builtin> = {
  'crypto.md5': digest('md5'),
  'crypto.sha1': digest('sha1'),
  'crypto.sha256': digest('sha256'),
  'crypto.hmac.md5': hmac('md5'),
  'crypto.hmac.sha1': hmac('sha1'),
  'crypto.hmac.sha256': hmac('sha256'),
  'crypto.hmac.sha512': hmac('sha512'),
  // hmac.Equal: constant time over the bytes; different lengths are simply unequal.
  'crypto.hmac.equal': (args) => {
    const a = Buffer.from(str(args, 0));
    const b = Buffer.from(str(args, 1));
    return a.length === b.length && timingSafeEqual(a, b);
  },
};
