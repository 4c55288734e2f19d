import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OPA = join(ROOT, '.tools', 'bin', 'opa');
export const BUILTIN_BUNDLE = join(ROOT, 'build', 'bundle.tar.gz');
/** Realistic AdmissionReviews and CheckRequests, so a clean clone tests and benchmarks the same documents. */
export const FIXTURES = join(ROOT, 'test', 'fixtures');
