import { Type, type Static } from 'typebox';
import { schemaValidator } from '../../schema/validator.js';

/**
 * The parts of a Pod the injector reads. The API server has already validated the Pod against its own schema,
 * but /api/v1/mesh/validate takes objects from anyone, so the shape is checked before it is trusted.
 */
const Named = Type.Object({ name: Type.String({ minLength: 1 }) });
const StringMap = Type.Record(Type.String(), Type.String());

const PodSchema = Type.Object({
  metadata: Type.Optional(
    Type.Object({
      name: Type.Optional(Type.String()),
      generateName: Type.Optional(Type.String()),
      namespace: Type.Optional(Type.String()),
      labels: Type.Optional(StringMap),
      annotations: Type.Optional(StringMap),
    }),
  ),
  spec: Type.Object({
    containers: Type.Array(Named, { minItems: 1 }),
    initContainers: Type.Optional(Type.Array(Named)),
    ephemeralContainers: Type.Optional(Type.Array(Named)),
    volumes: Type.Optional(Type.Array(Named)),
    hostNetwork: Type.Optional(Type.Boolean()),
    serviceAccountName: Type.Optional(Type.String()),
    serviceAccount: Type.Optional(Type.String()),
  }),
});
export type Pod = Static<typeof PodSchema>;

const validatePod = schemaValidator<Pod>(PodSchema);

/** The Pod, typed, or a message saying what is wrong with it. */
export function asPod(object: unknown): Pod | string {
  if (validatePod(object)) return object;
  const e = validatePod.errors?.[0];
  return `the Pod is malformed: ${e?.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(root)'} ${e?.message ?? ''}`.trim();
}

/** The workload's ServiceAccount as the kubelet resolves it: serviceAccountName, the deprecated serviceAccount, else "default". */
export function serviceAccountOf(pod: Pod): string {
  return pod.spec.serviceAccountName || pod.spec.serviceAccount || 'default';
}
