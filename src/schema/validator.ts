import { Ajv, type AnySchema, type ErrorObject, type Options, type ValidateFunction } from 'ajv';

/** A compiled JSON Schema check: true when the value matches, else `errors` says why. */
export interface Validator<T> {
  (value: unknown): value is T;
  readonly errors: ErrorObject[] | null | undefined;
}

/** Every schema handed to schemaValidator, with its options: test/schema checks each against the JSON Schema meta-schema. */
export const declaredSchemas: Array<{ schema: AnySchema; options: Options }> = [];

const instances = new Map<string, Ajv>();
const compilers: Array<() => void> = [];

/**
 * A validator of one of Portcullis' own schemas, compiled when it is first used. One Ajv per set of options,
 * shared; each Ajv would otherwise compile the meta-schema to check the schemas given to it, and compiling
 * at module load made every command pay for every schema (the configuration's, the AdmissionReview's, ...),
 * `portcullis eval` and `config check` included. The schemas are constants of the source: the meta-schema
 * check runs once in the tests (validateSchema: false here), not at every start.
 */
export function schemaValidator<T>(schema: AnySchema, options: Options = {}): Validator<T> {
  declaredSchemas.push({ schema, options });
  let compiled: ValidateFunction<T> | undefined;
  const compile = () => (compiled ??= ajvFor(options).compile<T>(schema));
  compilers.push(compile);
  const validate = (value: unknown): value is T => compile()(value) as boolean;
  return Object.defineProperty(validate, 'errors', { get: () => compiled?.errors }) as Validator<T>;
}

/**
 * Compiles now every schema the modules loaded so far declared: a server (the admission door, each
 * decision worker) calls it as it starts, so its first review does not pay ~50 ms of compiling.
 */
export function compileDeclaredSchemas(): void {
  for (const compile of compilers) compile();
}

function ajvFor(options: Options): Ajv {
  const key = JSON.stringify(options);
  let ajv = instances.get(key);
  if (!ajv) {
    ajv = new Ajv({ strict: false, ...options, validateSchema: false });
    instances.set(key, ajv);
  }
  return ajv;
}
