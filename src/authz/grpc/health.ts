import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * grpc.health.v1.Health, defined here because no package on the registry ships its .proto; the messages
 * and numbers are those of grpc/grpc's src/proto/grpc/health/v1/health.proto.
 */
const HEALTH = {
  nested: {
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
                HealthCheckResponse: {
                  fields: { status: { type: 'ServingStatus', id: 1 } },
                  nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
                },
                Health: {
                  methods: {
                    Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' },
                    Watch: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse', responseStream: true },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export function healthDefinition(): grpc.ServiceDefinition {
  const pkg = grpc.loadPackageDefinition(protoLoader.fromJSON(HEALTH as unknown as Parameters<typeof protoLoader.fromJSON>[0], { enums: String, defaults: true })) as unknown as {
    grpc: { health: { v1: { Health: { service: grpc.ServiceDefinition } } } };
  };
  return pkg.grpc.health.v1.Health.service;
}

/**
 * Check answers the status of a service ("" for the server as a whole); Watch streams it and every change,
 * polled once a second, until the client goes away.
 */
export function healthService(status: (service: string) => ServingStatus, pollMs = 1000): grpc.UntypedServiceImplementation {
  return {
    Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const s = status(call.request.service);
      if (s === 'SERVICE_UNKNOWN') callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      else callback(null, { status: s });
    },
    Watch(call: grpc.ServerWritableStream<{ service: string }, unknown>) {
      let last: ServingStatus | undefined;
      const send = () => {
        const s = status(call.request.service);
        if (s !== last) {
          last = s;
          call.write({ status: s });
        }
      };
      send();
      const timer = setInterval(send, pollMs);
      const stop = () => clearInterval(timer);
      call.on('cancelled', stop);
      call.on('close', stop);
      call.on('error', stop);
    },
  };
}
