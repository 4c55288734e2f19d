import { Type, type Static } from 'typebox';
import { DURATION_PATTERN } from './duration.js';

const Duration = (def: string, description: string) => Type.String({ pattern: DURATION_PATTERN, default: def, description });

/**
 * The self-managed certificates of Kubernetes mode. Defaults are the seed's mesh certificate settings
 * (rotationPeriod 24h, earlyRotation 4h) for the serving certificate; the CA lives longer and rolls over
 * in two phases (see rotation.ts).
 */
export const SecretTlsConfig = Type.Object(
  {
    name: Type.String({ default: 'portcullis-webhook-tls', description: 'Secret (in kubernetes.namespace) holding the CA, the trust bundle and the serving pair' }),
    rotationPeriod: Duration('24h', 'lifetime of each serving certificate'),
    earlyRotation: Duration('4h', 'renew the serving certificate this long before it expires'),
    caRotationPeriod: Duration('8760h', 'lifetime of each CA'),
    caEarlyRotation: Duration('720h', 'start the CA rollover this long before the CA expires'),
    extraNames: Type.Array(Type.String(), {
      default: [],
      description: 'DNS names or IP addresses the serving certificate covers besides the Service names (a webhook reached by URL)',
    }),
    trustPropagation: Duration('10s', 'after a new CA is in the webhook caBundle, wait this long (API server informers) before serving a certificate it signed'),
  },
  { default: {}, additionalProperties: false },
);
export type SecretTlsConfig = Static<typeof SecretTlsConfig>;

export const TlsConfig = Type.Object(
  {
    mode: Type.Union([Type.Literal('dev'), Type.Literal('files'), Type.Literal('secret')], {
      default: 'dev',
      description:
        'dev: a self-signed CA and serving certificate under dir, created when missing; files: certFile/keyFile (e.g. cert-manager), reloaded when they change; secret: a self-managed CA and serving certificate in a Kubernetes Secret shared by all replicas, rotated by the leader (kubernetes mode)',
    }),
    dir: Type.String({ default: 'certs', description: 'dev mode: where the self-signed CA and serving pair are kept' }),
    certFile: Type.Optional(Type.String({ description: 'files mode: PEM serving certificate (chain), reloaded when it changes' })),
    keyFile: Type.Optional(Type.String({ description: 'files mode: PEM private key of certFile' })),
    minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], { default: 'TLSv1.2', description: 'oldest TLS version the HTTPS listeners accept; older ones are never offered' }),
    secret: SecretTlsConfig,
  },
  { default: {}, additionalProperties: false },
);
export type TlsConfig = Static<typeof TlsConfig>;
