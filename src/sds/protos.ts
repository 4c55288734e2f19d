import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const require = createRequire(import.meta.url);

export const SDS_PROTO = 'envoy/service/secret/v3/sds.proto';
export const ADS_PROTO = 'envoy/service/discovery/v3/ads.proto';
export const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

/** The Envoy API as @grpc/grpc-js-xds publishes it (the same protos the ext_authz front door reads). */
export function includes(): string[] {
  const deps = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d));
}

/**
 * The SecretDiscoveryService and the AggregatedDiscoveryService (over which the injected proxies ask for their
 * secrets); messages keep their proto field names (version_info, type_url).
 */
export function discoveryDefinitions(): { sds: grpc.ServiceDefinition; ads: grpc.ServiceDefinition } {
  const pkg = protoLoader.loadSync([SDS_PROTO, ADS_PROTO], { includeDirs: includes(), keepCase: true, defaults: true, arrays: true });
  return {
    sds: pkg['envoy.service.secret.v3.SecretDiscoveryService'] as grpc.ServiceDefinition,
    ads: pkg['envoy.service.discovery.v3.AggregatedDiscoveryService'] as grpc.ServiceDefinition,
  };
}

let secretType: protobuf.Type | undefined;

/** The envoy.extensions.transport_sockets.tls.v3.Secret message type (proto field names), loaded once. */
export function secretMessage(): protobuf.Type {
  if (!secretType) {
    protobuf.common('descriptor', (require('protobufjs/google/protobuf/descriptor.json') as { nested: { google: { nested: { protobuf: { nested: protobuf.INamespace } } } } }).nested.google.nested.protobuf.nested);
    const dirs = includes();
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => dirs.map((d) => join(d, target)).find((c) => existsSync(c)) ?? target;
    root.loadSync('envoy/extensions/transport_sockets/tls/v3/secret.proto', { keepCase: true });
    root.resolveAll();
    secretType = root.lookupType('envoy.extensions.transport_sockets.tls.v3.Secret');
  }
  return secretType;
}

/** Encodes a Secret, for an Any of a DiscoveryResponse. */
export function encodeSecret(secret: Record<string, unknown>): Buffer {
  const type = secretMessage();
  const problem = type.verify(secret);
  if (problem) throw new Error(`not a Secret: ${problem}`);
  return Buffer.from(type.encode(type.fromObject(secret)).finish());
}
