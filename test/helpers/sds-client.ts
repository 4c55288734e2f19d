// An SDS client built from the published Envoy protos, doing what the injected Envoy's google_grpc config does: TLS
// to the server (checked against the mesh CA), the Pod's token as "authorization: Bearer", secrets over the
// aggregated stream (StreamAggregatedResources, as the bootstrap's ADS asks for them), StreamSecrets or FetchSecrets.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ADS_PROTO, includes, SDS_PROTO, secretMessage } from '../../src/sds/protos.js';

export const SECRET_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret';

export interface Response {
  version_info: string;
  nonce: string;
  type_url: string;
  resources: Array<{ type_url: string; value: Buffer }>;
}

/** A Secret as Envoy reads it: the certificate and key PEMs, or the trusted CA bundle. */
export interface Secret {
  name: string;
  cert?: string;
  key?: string;
  trustedCa?: string;
}

const definition = protoLoader.loadSync([SDS_PROTO, ADS_PROTO], { includeDirs: includes(), keepCase: true, defaults: true, arrays: true, longs: String });
const pkg = grpc.loadPackageDefinition(definition) as unknown as {
  envoy: { service: { secret: { v3: { SecretDiscoveryService: grpc.ServiceClientConstructor } }; discovery: { v3: { AggregatedDiscoveryService: grpc.ServiceClientConstructor } } } };
};

export function decodeSecrets(response: Response): Secret[] {
  const type = secretMessage();
  return response.resources.map((any) => {
    const s = type.toObject(type.decode(any.value), { bytes: String }) as Record<string, any>;
    const text = (b?: string) => (b === undefined ? undefined : Buffer.from(b, 'base64').toString('utf8'));
    return {
      name: s.name,
      ...(s.tls_certificate ? { cert: text(s.tls_certificate.certificate_chain?.inline_bytes), key: text(s.tls_certificate.private_key?.inline_bytes) } : {}),
      ...(s.validation_context ? { trustedCa: text(s.validation_context.trusted_ca?.inline_bytes) } : {}),
    };
  });
}

export interface SdsStream {
  send(names: string[], ack?: Response, typeUrl?: string): void;
  /** The next response, or the status that ended the stream. */
  next(timeoutMs?: number): Promise<Response>;
  /** Whether a response arrives within ms (for "nothing is sent"). */
  quiet(ms: number): Promise<boolean>;
  close(): void;
}

export class SdsClient {
  private readonly client: grpc.Client & { FetchSecrets: (...args: any[]) => void; StreamSecrets: (...args: any[]) => unknown };
  private readonly ads: grpc.Client & { StreamAggregatedResources: (...args: any[]) => unknown };

  /** `name`: a DNS name of the server's certificate (the dev certificate's localhost, or the Service's). */
  constructor(port: number, ca: string, name = 'localhost') {
    const options = { 'grpc.ssl_target_name_override': name };
    this.client = new pkg.envoy.service.secret.v3.SecretDiscoveryService(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(ca)), options) as never;
    this.ads = new pkg.envoy.service.discovery.v3.AggregatedDiscoveryService(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(ca)), options) as never;
  }

  close(): void {
    this.client.close();
    this.ads.close();
  }

  private metadata(token: string | undefined): grpc.Metadata {
    const m = new grpc.Metadata();
    if (token !== undefined) m.set('authorization', `Bearer ${token}`);
    return m;
  }

  fetch(token: string | undefined, names: string[], typeUrl = SECRET_TYPE): Promise<Response> {
    return new Promise((resolve, reject) => {
      this.client.FetchSecrets({ type_url: typeUrl, resource_names: names, node: { id: 'sidecar~test' } }, this.metadata(token), (err: grpc.ServiceError | null, res: Response) => (err ? reject(err) : resolve(res)));
    });
  }

  /** A stream of secrets: over ADS, as the injected proxies ask, or over SDS's own StreamSecrets. */
  stream(token: string | undefined, service: 'ads' | 'sds' = 'ads'): SdsStream {
    const metadata = this.metadata(token);
    const call = (service === 'ads' ? this.ads.StreamAggregatedResources(metadata) : this.client.StreamSecrets(metadata)) as grpc.ClientDuplexStream<unknown, Response>;
    const responses: Response[] = [];
    let failure: grpc.ServiceError | undefined;
    const waiters: Array<() => void> = [];
    const wake = () => waiters.splice(0).forEach((w) => w());
    call.on('data', (r: Response) => (responses.push(r), wake()));
    call.on('error', (e: grpc.ServiceError) => ((failure = e), wake()));
    call.on('end', wake);
    let first = true;
    return {
      send(names, ack, typeUrl = SECRET_TYPE) {
        call.write({ type_url: typeUrl, resource_names: names, version_info: ack?.version_info ?? '', response_nonce: ack?.nonce ?? '', ...(first ? { node: { id: 'sidecar~test' } } : {}) });
        first = false;
      },
      async next(timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        while (responses.length === 0) {
          if (failure) throw failure;
          if (Date.now() > deadline) throw new Error('no SDS response in time');
          await new Promise<void>((r) => {
            waiters.push(r);
            setTimeout(r, 200);
          });
        }
        return responses.shift() as Response;
      },
      async quiet(ms) {
        await new Promise((r) => setTimeout(r, ms));
        return responses.length === 0 && !failure;
      },
      close() {
        call.cancel();
      },
    };
  }
}
