// A gRPC ext_authz client built from the same published Envoy protos the server loads (@grpc/grpc-js-xds deps).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { healthDefinition } from '../../src/authz/grpc/health.js';
import { EXTERNAL_AUTH_PROTO, envoyProtoIncludes } from '../../src/authz/grpc/protos.js';

export interface CheckResponse {
  status: { code: number; message?: string };
  ok_response?: {
    headers: Array<{ header: { key: string; value: string } }>;
    headers_to_remove: string[];
    response_headers_to_add: Array<{ header: { key: string; value: string } }>;
  };
  denied_response?: { status: { code: number }; headers: Array<{ header: { key: string; value: string } }>; body: string };
  dynamic_metadata?: { fields: Record<string, { stringValue?: string }> };
}

type Unary = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: CheckResponse) => void) => void;

export interface AuthzClient {
  check(request: unknown, options?: { deadlineMs?: number }): Promise<CheckResponse>;
  /** Sends raw bytes as the request message, for malformed-request tests. */
  raw(bytes: Buffer): Promise<CheckResponse>;
  health(service: string): Promise<{ status: string }>;
  close(): void;
}

const definition = protoLoader.loadSync(EXTERNAL_AUTH_PROTO, { includeDirs: envoyProtoIncludes(), keepCase: true, longs: String, defaults: true, oneofs: true });
const pkg = grpc.loadPackageDefinition(definition) as unknown as { envoy: { service: { auth: { v3: { Authorization: grpc.ServiceClientConstructor } } } } };

export function authzClient(port: number): AuthzClient {
  const target = `127.0.0.1:${port}`;
  const client = new pkg.envoy.service.auth.v3.Authorization(target, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Check: Unary };
  const Raw = grpc.makeGenericClientConstructor(
    {
      Check: {
        path: '/envoy.service.auth.v3.Authorization/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (b: Buffer) => b,
        requestDeserialize: (b: Buffer) => b,
        responseSerialize: (b: Buffer) => b,
        responseDeserialize: (b: Buffer) => b,
      },
    },
    'Raw',
  );
  const raw = new Raw(target, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Check: (b: Buffer, cb: (err: grpc.ServiceError | null, res: Buffer) => void) => void };
  const decodeResponse = pkg.envoy.service.auth.v3.Authorization.service.Check?.responseDeserialize as (b: Buffer) => CheckResponse;
  const Health = grpc.makeGenericClientConstructor(healthDefinition(), 'Health');
  const healthClient = new Health(target, grpc.credentials.createInsecure()) as unknown as grpc.Client & { Check: (req: { service: string }, cb: (err: grpc.ServiceError | null, res: { status: string }) => void) => void };
  return {
    check(request, options = {}) {
      return new Promise((resolve, reject) => {
        const opts: grpc.CallOptions = options.deadlineMs !== undefined ? { deadline: Date.now() + options.deadlineMs } : {};
        client.Check(request, new grpc.Metadata(), opts, (err, res) => (err ? reject(err) : resolve(res)));
      });
    },
    raw(bytes) {
      return new Promise((resolve, reject) => raw.Check(bytes, (err, res) => (err ? reject(err) : resolve(decodeResponse(res)))));
    },
    health(service) {
      return new Promise((resolve, reject) => healthClient.Check({ service }, (err, res) => (err ? reject(err) : resolve(res))));
    },
    close() {
      client.close();
      raw.close();
      healthClient.close();
    },
  };
}

/** A CheckRequest written in the JSON mapping (like the fixtures) as the object protobufjs encodes. */
export function fromProtoJson(doc: { attributes?: { request?: { time?: unknown } } }): unknown {
  const copy = structuredClone(doc) as { attributes?: { request?: { time?: unknown } } };
  const time = copy.attributes?.request?.time;
  if (typeof time === 'string') {
    const ms = Date.parse(time);
    const fraction = /\.(\d+)Z$/.exec(time)?.[1] ?? '';
    copy.attributes!.request!.time = { seconds: Math.floor(ms / 1000), nanos: Number(fraction.padEnd(9, '0')) };
  }
  return copy;
}
