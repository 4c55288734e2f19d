import type { RawNumber } from '../../policy/value/raw-number.js';

/**
 * The parts of an envoy.service.auth.v3.CheckRequest, as opa-envoy-plugin's input holds it (JSON names,
 * values as Go holds them: protomap.ts), that Portcullis reads. The policy receives the whole document;
 * these types only cover what TypeScript looks at.
 */
export interface SocketAddress {
  address?: string;
  portValue?: number;
}

export interface PeerAttributes {
  address?: { socketAddress?: SocketAddress };
  service?: string;
  labels?: Record<string, string>;
  principal?: string;
  certificate?: string;
}

export interface HttpAttributes {
  id?: string;
  method?: string;
  headers?: Record<string, string>;
  path?: string;
  host?: string;
  scheme?: string;
  size?: number | RawNumber;
  protocol?: string;
  body?: string;
  rawBody?: string;
}

export interface CheckAttributes {
  source?: PeerAttributes;
  destination?: PeerAttributes;
  request?: { time?: { seconds?: number | RawNumber; nanos?: number }; http?: HttpAttributes };
  contextExtensions?: Record<string, string>;
  metadataContext?: unknown;
  [field: string]: unknown;
}

export interface CheckRequestJson {
  attributes?: CheckAttributes;
}
