import { integer } from '../value/raw-number.js';
import type { Builtin } from './builtin.js';

export const timeBuiltins: Record<string, Builtin> = {
  // One value per evaluation, as OPA: every call in one decision sees the same instant.
  'time.now_ns': (_args, evaluation) => integer(evaluation.now()),
};
