import { Type, type Static } from 'typebox';

export const AuthzConfig = Type.Object(
  {
    enabled: Type.Boolean({ default: true }),
    grpc: Type.Object(
      { enabled: Type.Boolean({ default: true }), host: Type.String({ default: '0.0.0.0' }), port: Type.Integer({ minimum: 0, maximum: 65535, default: 9191 }) },
      { default: {}, additionalProperties: false },
    ),
    http: Type.Object(
      { enabled: Type.Boolean({ default: true }), host: Type.String({ default: '0.0.0.0' }), port: Type.Integer({ minimum: 0, maximum: 65535, default: 9192 }) },
      { default: {}, additionalProperties: false },
    ),
    entrypoint: Type.String({ default: 'portcullis/authz/decision', description: 'an opa-envoy-plugin policy works with envoy/authz/allow' }),
    failureMode: Type.Union([Type.Literal('deny'), Type.Literal('allow')], { default: 'deny', description: 'answer when the decision itself fails' }),
  },
  { default: {}, additionalProperties: false },
);
export type AuthzConfig = Static<typeof AuthzConfig>;
