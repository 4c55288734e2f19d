import { Type, type Static } from 'typebox';

export const TlsConfig = Type.Object(
  {
    mode: Type.Union([Type.Literal('dev'), Type.Literal('files')], {
      default: 'dev',
      description: 'dev: a self-signed CA and serving certificate under dir, created when missing; files: certFile/keyFile (e.g. cert-manager), reloaded when they change',
    }),
    dir: Type.String({ default: 'certs' }),
    certFile: Type.Optional(Type.String()),
    keyFile: Type.Optional(Type.String()),
    minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], { default: 'TLSv1.2' }),
  },
  { default: {}, additionalProperties: false },
);
export type TlsConfig = Static<typeof TlsConfig>;
