import { Type, type Static } from 'typebox';

export const AdmissionConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    host: Type.String({ default: '0.0.0.0' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8443 }),
    maxBodyBytes: Type.Integer({ minimum: 1024, default: 6 * 1024 * 1024, description: 'the API server sends at most ~3 MiB objects, twice for UPDATE' }),
    violationsEntrypoint: Type.String({ default: 'portcullis/admission/violations' }),
    patchesEntrypoint: Type.String({ default: 'portcullis/admission/patches' }),
  },
  { default: {}, additionalProperties: false },
);
export type AdmissionConfig = Static<typeof AdmissionConfig>;
