import { randomUUID } from 'node:crypto';
import { createServer as createNetServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Context, Listener } from '../../server/context.js';
import type { Incoming } from '../authorizer.js';
import { awaitHttp2Preface } from '../../net/http2-preface.js';
import { toProtoMap } from '../input/protomap.js';
import { acquireAuthorizer } from '../shared.js';
import { healthDefinition, healthService } from './health.js';
import { EXTERNAL_AUTH_PROTO, envoyProtoIncludes, envoyRoot } from './protos.js';
import { checkResponse } from './response.js';

const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';

/**
 * The Authorization service as the published Envoy protos define it, with the request side read through
 * protobufjs into the document opa-envoy-plugin builds from it (protomap.ts) and never throwing: bytes that
 * do not decode become a malformed request, answered and audited like any other.
 */
function authorizationDefinition(): grpc.ServiceDefinition {
  const pkg = protoLoader.loadSync(EXTERNAL_AUTH_PROTO, { includeDirs: envoyProtoIncludes(), keepCase: true });
  const check = (pkg[AUTHORIZATION_SERVICE] as grpc.ServiceDefinition).Check as grpc.MethodDefinition<Incoming, unknown>;
  const root = envoyRoot();
  const requestType = root.lookupType('envoy.service.auth.v3.CheckRequest');
  const responseType = root.lookupType('envoy.service.auth.v3.CheckResponse');
  return {
    Check: {
      ...check,
      requestDeserialize(bytes: Buffer): Incoming {
        try {
          return { request: toProtoMap(requestType, requestType.decode(bytes)) };
        } catch (err) {
          return { malformed: `CheckRequest does not decode: ${(err as Error).message}` };
        }
      },
      responseSerialize: (response: unknown) => Buffer.from(responseType.encode(response as Record<string, unknown>).finish()),
    },
  };
}

export async function startGrpcDoor(ctx: Context): Promise<Listener> {
  const { grpc: cfg, entrypoint } = ctx.config.authz;
  const { authorizer, release } = acquireAuthorizer(ctx);
  const limits = cfg.connections;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': cfg.maxMessageBytes,
    'grpc.max_send_message_length': cfg.maxMessageBytes,
    // Channelz keeps per-call statistics for a debugging service this server does not offer: ~7% of throughput.
    'grpc.enable_channelz': 0,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
    'grpc.max_connection_idle_ms': limits.maxConnectionIdleMs,
    'grpc.max_connection_age_ms': limits.maxConnectionAgeMs,
    'grpc.max_connection_age_grace_ms': limits.maxConnectionAgeGraceMs,
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
  });
  server.addService(authorizationDefinition(), {
    Check(call: grpc.ServerUnaryCall<Incoming, unknown>, callback: grpc.sendUnaryData<unknown>) {
      const started = performance.now();
      const deadline = call.getDeadline();
      const callerDeadline = deadline instanceof Date ? deadline.getTime() : deadline;
      authorizer
        .check(call.request, 'grpc', randomUUID(), started, callerDeadline)
        .then(({ decision, decisionId }) => {
          if (call.cancelled) return;
          callback(null, checkResponse(decision, decisionId));
        })
        .catch((err: Error) => callback({ code: grpc.status.INTERNAL, details: err.message }));
    },
  });
  server.addService(
    healthDefinition(),
    healthService((service) => {
      if (service !== '' && service !== AUTHORIZATION_SERVICE) return 'SERVICE_UNKNOWN';
      return !ctx.draining() && ctx.engine.current().has(entrypoint) ? 'SERVING' : 'NOT_SERVING';
    }),
  );
  // Portcullis owns the listening socket and hands grpc-js only connections that opened HTTP/2 in time:
  // grpc-js has no option for a client that connects and never speaks, nor a bound on connections.
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const sockets = new Set<Socket>();
  const listener = createNetServer((socket) => {
    if (sockets.size >= limits.maxConnections) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A reset before or after the hand-over must not become an uncaught error; HTTP/2 handles its own.
    socket.on('error', () => undefined);
    void awaitHttp2Preface(socket, limits.prefaceTimeoutMs).then((ok) => (ok ? injector.injectConnection(socket) : socket.destroy()));
  });
  const port = await new Promise<number>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host: cfg.host, port: cfg.port }, () => {
      listener.off('error', reject);
      resolve((listener.address() as { port: number }).port);
    });
  });
  ctx.log.info({ port, entrypoint }, 'authz gRPC listening');
  return {
    name: 'authz-grpc',
    port,
    async close() {
      listener.close();
      // In-flight Checks are answered; a client holding a Watch stream open must not hold up the stop forever.
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 5000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      injector.destroy();
      for (const socket of sockets) socket.destroy();
      release();
    },
  };
}

