import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

/** Where @grpc/grpc-js-xds keeps the Envoy API and its imports: the published protos, not a copy of ours. */
export function envoyProtoIncludes(): string[] {
  const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
}

export const EXTERNAL_AUTH_PROTO = 'envoy/service/auth/v3/external_auth.proto';

let root: protobuf.Root | undefined;

/**
 * The Envoy ext_authz types, loaded once. Field names are kept as written in the .proto files so the
 * JSON mapping can derive lowerCamelCase names exactly as protojson does.
 */
export function envoyRoot(): protobuf.Root {
  if (root) return root;
  // The validate and udpa annotations import descriptor.proto, which protobufjs only knows as JSON.
  protobuf.common('descriptor', (require('protobufjs/google/protobuf/descriptor.json') as { nested: { google: { nested: { protobuf: { nested: protobuf.INamespace } } } } }).nested.google.nested.protobuf.nested);
  const includes = envoyProtoIncludes();
  const r = new protobuf.Root();
  r.resolvePath = (_origin, target) => {
    for (const dir of includes) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    // google/protobuf/*.proto are built into protobufjs and resolved by name.
    return target;
  };
  r.loadSync(EXTERNAL_AUTH_PROTO, { keepCase: true });
  r.resolveAll();
  root = r;
  return r;
}
