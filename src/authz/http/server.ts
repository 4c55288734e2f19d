import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { limitConnections, serverOptions, tooManyHeaders } from '../../net/http-limits.js';
import type { Context, Listener } from '../../server/context.js';
import type { Authorizer, Incoming } from '../authorizer.js';
import { acquireAuthorizer } from '../shared.js';
import { checkRequestFromHttp } from './request.js';
import { writeDecision } from './response.js';

/**
 * The HTTP mode of ext_authz (Envoy's http_service, nginx auth_request). Every path and method is a check:
 * there are no routes to register, so this is node:http rather than Fastify, which would only add a
 * catch-all route and its per-request cost. Bodies are read up to authz.maxBodyBytes; a longer one is
 * refused with 413 before it is buffered.
 */
export async function startHttpDoor(ctx: Context): Promise<Listener> {
  const { http: cfg, maxBodyBytes } = ctx.config.authz;
  const { authorizer, release } = acquireAuthorizer(ctx);
  // Slow clients are cut off before they can pin connections (authz.http.connections); the decision itself has timeoutMs.
  const server = createServer({ maxHeaderSize: cfg.maxHeaderBytes, ...serverOptions(cfg.connections) }, (req, res) => handle(authorizer, req, res, cfg, maxBodyBytes));
  limitConnections(server, cfg.connections);
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end(`HTTP/1.1 ${(err as { code?: string }).code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  ctx.log.info({ port }, 'authz HTTP listening');
  return {
    name: 'authz-http',
    port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      release();
    },
  };
}

function handle(authorizer: Authorizer, req: IncomingMessage, res: ServerResponse, cfg: Context['config']['authz']['http'], maxBodyBytes: number): void {
  const started = performance.now();
  const decisionId = randomUUID();
  const decide = (incoming: Incoming) => {
    authorizer
      .check(incoming, 'http', decisionId, started)
      .then(({ decision }) => writeDecision(res, decision, decisionId))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
  };
  const tooLarge = () => {
    res.setHeader('connection', 'close');
    decide({ malformed: `request body larger than ${maxBodyBytes} bytes`, status: 413 });
  };

  if (tooManyHeaders(req, cfg.connections)) {
    // Judged on part of its headers, a request could pass a rule about one of those Node left out.
    req.resume();
    res.setHeader('connection', 'close');
    decide({ malformed: `more than ${cfg.connections.maxHeaders} header fields (authz.http.connections.maxHeaders)`, status: 431 });
    return;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBodyBytes) {
    req.resume();
    tooLarge();
    return;
  }
  if (declared === 0 && req.headers['transfer-encoding'] === undefined) {
    // The common case (nginx auth_request, Envoy without with_request_body): nothing to wait for.
    req.resume();
    decide({ request: checkRequestFromHttp(req, EMPTY, cfg) });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= maxBodyBytes) chunks.push(c);
  });
  req.on('end', () => {
    if (size > maxBodyBytes) tooLarge();
    else decide({ request: checkRequestFromHttp(req, Buffer.concat(chunks), cfg) });
  });
  req.on('error', () => res.destroy());
}

const EMPTY = Buffer.alloc(0);
