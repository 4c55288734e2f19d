import { parseDuration } from '../../certs/duration.js';
import { TRUST_BUNDLE, WORKLOAD_CERTIFICATE } from '../../certs/workload.js';

/**
 * The Envoy bootstrap of one Pod's proxy (envoy.config.bootstrap.v3.Bootstrap, as JSON), handed to Envoy on
 * its command line (--config-yaml). Static: no control plane but Portcullis' SDS for the certificates, so
 * what the proxy does is fixed when the Pod is created, and the injector's claim check can compare it.
 *
 *   inbound (the redirect's inbound port): mutual TLS only, the workload's SVID, a client certificate from
 *     the mesh CA required (plain text finds no filter chain and is closed); then Portcullis' ext_authz over
 *     gRPC, failing closed, and on to the application at the connection's original address. HTTP (our
 *     outbound's ALPN "portcullis-http") through the HTTP filter, anything else through the network one.
 *   outbound (the redirect's outbound port): HTTP to a cluster-local name, and anything to the in-mesh
 *     ranges, leaves in mutual TLS with the workload's SVID, the destination's certificate checked to be a
 *     SPIFFE ID of the trust domain from the mesh CA; the rest passes through unchanged.
 *   health and metrics: /healthz/ready and /stats/prometheus of the admin interface on their own ports;
 *     the admin interface itself listens on a Unix socket only the proxy's UID can open.
 *   certificates: over SDS from Portcullis, on the one aggregated (ADS) stream the bootstrap configures once
 *     (TLS, the server checked against the mesh trust bundle), the Pod's projected ServiceAccount token sent
 *     with every call (re-read from its file each time).
 */
export interface BootstrapOptions {
  spiffeId: string;
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
  ports: { inbound: number; outbound: number; health: number; metrics: number };
  /** Path of the admin interface's Unix socket, in a directory only the proxy mounts. */
  adminSocket: string;
  authz: { address: string; timeout: string };
  sds: { address: string; tokenFile: string; caBundle: string };
  mesh: { clusterDomain: string; hostSuffixes: string[]; cidrs: string[] };
}

type Json = Record<string, unknown>;

const TYPE = 'type.googleapis.com/envoy.';
const typed = (name: string, type: string, config: Json = {}): Json => ({ name, typed_config: { '@type': `${TYPE}${type}`, ...config } });

/** ALPN our outbound offers, so the peer's inbound tells HTTP from raw TCP before it decrypts anything. */
const ALPN = { http: 'portcullis-http', tcp: 'portcullis-tcp' };
const HTTP_PROTOCOLS = ['http/1.1', 'h2c'];

const CLUSTERS = {
  inbound: 'inbound-app',
  outboundHttp: 'outbound-mesh-http',
  outboundTcp: 'outbound-mesh-tcp',
  passthrough: 'passthrough',
  authz: 'portcullis-authz',
  admin: 'admin',
};

/** A Go-style duration ("250ms", "1s") as protobuf's JSON writes a Duration ("0.25s"). */
function protoDuration(text: string): string {
  const ms = parseDuration(text);
  if (ms <= 0) throw new Error(`${JSON.stringify(text)} must be longer than 0`);
  return `${ms / 1000}s`;
}

function hostPort(address: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(address);
  if (!m) throw new Error(`${JSON.stringify(address)} is not host:port`);
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

const socket = (address: string, port: number): Json => ({ socket_address: { address, port_value: port } });

export function envoyBootstrap(o: BootstrapOptions): Json {
  if (o.sds.caBundle.trim() === '') throw new Error('no CA bundle for the SDS server (the mesh trust bundle, or values.sds.caBundle): the proxy could not check whom it gets its certificates from');
  // Every secret comes over the ADS stream configured once below (dynamic_resources), not a stream each.
  const sds = { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' };
  const tlsSecrets = {
    tls_params: { tls_minimum_protocol_version: 'TLSv1_2' },
    tls_certificate_sds_secret_configs: [{ name: WORKLOAD_CERTIFICATE, sds_config: sds }],
  };
  const validation = (prefix: string) => ({
    combined_validation_context: {
      default_validation_context: { match_typed_subject_alt_names: [{ san_type: 'URI', matcher: { prefix } }] },
      validation_context_sds_secret_config: { name: TRUST_BUNDLE, sds_config: sds },
    },
  });
  const downstreamTls = (alpn: string[]) =>
    typed('envoy.transport_sockets.tls', 'extensions.transport_sockets.tls.v3.DownstreamTlsContext', {
      require_client_certificate: true,
      // Any trust domain the mesh CA signs for; which callers get in is the policy's (trust domains and levels).
      common_tls_context: { ...tlsSecrets, ...validation('spiffe://'), alpn_protocols: alpn },
    });
  const upstreamTls = (alpn: string) =>
    typed('envoy.transport_sockets.tls', 'extensions.transport_sockets.tls.v3.UpstreamTlsContext', {
      common_tls_context: { ...tlsSecrets, ...validation(`spiffe://${o.trustDomain}/`), alpn_protocols: [alpn] },
    });
  const authzService = { envoy_grpc: { cluster_name: CLUSTERS.authz }, timeout: protoDuration(o.authz.timeout) };

  const inboundHttp = hcm('inbound_http', { cluster: CLUSTERS.inbound }, [
    typed('envoy.filters.http.ext_authz', 'extensions.filters.http.ext_authz.v3.ExtAuthz', {
      transport_api_version: 'V3',
      grpc_service: authzService,
      failure_mode_allow: false,
      include_peer_certificate: true,
      with_request_body: { max_request_bytes: 8192, allow_partial_message: true },
    }),
  ], {
    // The caller's identity reaches the application, and never one the caller wrote itself.
    forward_client_cert_details: 'SANITIZE_SET',
    set_current_client_cert_details: { uri: true },
    normalize_path: true,
    merge_slashes: true,
    path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT',
  });
  const inboundTcp = [
    typed('envoy.filters.network.ext_authz', 'extensions.filters.network.ext_authz.v3.ExtAuthz', {
      stat_prefix: 'inbound_tcp',
      transport_api_version: 'V3',
      grpc_service: authzService,
      failure_mode_allow: false,
      include_peer_certificate: true,
    }),
    tcpProxy('inbound_tcp', CLUSTERS.inbound),
  ];

  const meshAuthority = meshAuthorityRegex(o.mesh);
  const outboundChains: Json[] = [];
  if (o.mesh.cidrs.length > 0) {
    const prefix_ranges = o.mesh.cidrs.map(cidrRange);
    outboundChains.push(
      { name: 'outbound-mesh-http', filter_chain_match: { prefix_ranges, application_protocols: HTTP_PROTOCOLS }, filters: [hcm('outbound_mesh_http', { cluster: CLUSTERS.outboundHttp }, [])] },
      { name: 'outbound-mesh-tcp', filter_chain_match: { prefix_ranges }, filters: [tcpProxy('outbound_mesh_tcp', CLUSTERS.outboundTcp)] },
    );
  }
  outboundChains.push({
    name: 'outbound-http',
    filter_chain_match: { application_protocols: HTTP_PROTOCOLS },
    filters: [hcm('outbound_http', { cluster: CLUSTERS.passthrough, meshCluster: CLUSTERS.outboundHttp, meshAuthority }, [])],
  });

  return {
    node: { id: `sidecar.${o.namespace}`, cluster: `${o.serviceAccount}.${o.namespace}`, metadata: { spiffe_id: o.spiffeId, namespace: o.namespace, service_account: o.serviceAccount } },
    admin: { address: { pipe: { path: o.adminSocket, mode: 0o600 } } },
    static_resources: {
      listeners: [
        {
          name: 'inbound',
          address: socket('0.0.0.0', o.ports.inbound),
          traffic_direction: 'INBOUND',
          listener_filters: [typed('envoy.filters.listener.original_dst', 'extensions.filters.listener.original_dst.v3.OriginalDst'), typed('envoy.filters.listener.tls_inspector', 'extensions.filters.listener.tls_inspector.v3.TlsInspector')],
          filter_chains: [
            { name: 'inbound-http', filter_chain_match: { transport_protocol: 'tls', application_protocols: [ALPN.http] }, transport_socket: downstreamTls([ALPN.http]), filters: [inboundHttp] },
            { name: 'inbound-tcp', filter_chain_match: { transport_protocol: 'tls' }, transport_socket: downstreamTls([ALPN.tcp]), filters: inboundTcp },
          ],
        },
        {
          name: 'outbound',
          address: socket('0.0.0.0', o.ports.outbound),
          traffic_direction: 'OUTBOUND',
          listener_filters: [typed('envoy.filters.listener.original_dst', 'extensions.filters.listener.original_dst.v3.OriginalDst'), typed('envoy.filters.listener.http_inspector', 'extensions.filters.listener.http_inspector.v3.HttpInspector')],
          // Protocols where the server speaks first (SMTP, MySQL) wait this long for the inspector, then go on as TCP.
          listener_filters_timeout: '0.1s',
          continue_on_listener_filters_timeout: true,
          filter_chains: outboundChains,
          default_filter_chain: { name: 'outbound-passthrough', filters: [tcpProxy('outbound_passthrough', CLUSTERS.passthrough)] },
        },
        adminListener('health', o.ports.health, [{ match: { path: '/healthz/ready' }, route: { cluster: CLUSTERS.admin, prefix_rewrite: '/ready' } }]),
        adminListener('metrics', o.ports.metrics, [{ match: { path: '/stats/prometheus' }, route: { cluster: CLUSTERS.admin } }]),
      ],
      clusters: [
        originalDst(CLUSTERS.inbound, undefined, true),
        originalDst(CLUSTERS.outboundHttp, upstreamTls(ALPN.http), true),
        originalDst(CLUSTERS.outboundTcp, upstreamTls(ALPN.tcp), false),
        originalDst(CLUSTERS.passthrough, undefined, true),
        authzCluster(o.authz.address),
        {
          name: CLUSTERS.admin,
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: { cluster_name: CLUSTERS.admin, endpoints: [{ lb_endpoints: [{ endpoint: { address: { pipe: { path: o.adminSocket } } } }] }] },
        },
      ],
    },
    // Only secrets come over it: listeners and clusters are all static.
    dynamic_resources: { ads_config: adsConfig(o) },
    overload_manager: {
      resource_monitors: [
        typed('envoy.resource_monitors.global_downstream_max_connections', 'extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig', { max_active_downstream_connections: 100000 }),
      ],
    },
  };
}

/**
 * Portcullis' SDS, as an aggregated stream: TLS to the server (checked against the mesh trust bundle), the
 * token file as bearer token. No fetch timeout (initial_fetch_timeout 0s above): the listeners, and readiness,
 * wait for the certificates instead of starting without them.
 */
function adsConfig(o: BootstrapOptions): Json {
  return {
    api_type: 'GRPC',
    transport_api_version: 'V3',
    set_node_on_first_message_only: true,
    grpc_services: [
      {
        google_grpc: {
          target_uri: o.sds.address,
          stat_prefix: 'sds',
          channel_credentials: { ssl_credentials: { root_certs: { inline_string: o.sds.caBundle } } },
          credentials_factory_name: 'envoy.grpc_credentials.file_based_metadata',
          call_credentials: [
            {
              from_plugin: {
                name: 'envoy.grpc_credentials.file_based_metadata',
                typed_config: { '@type': `${TYPE}config.grpc_credential.v3.FileBasedMetadataConfig`, secret_data: { filename: o.sds.tokenFile }, header_prefix: 'Bearer ' },
              },
            },
          ],
        },
      },
    ],
  };
}

interface Routing {
  cluster: string;
  /** HTTP to an authority matching meshAuthority goes to meshCluster instead. */
  meshCluster?: string;
  meshAuthority?: string;
}

function hcm(statPrefix: string, routing: Routing, filters: Json[], extra: Json = {}): Json {
  const routes: Json[] = [];
  if (routing.meshCluster && routing.meshAuthority) {
    routes.push({
      match: { prefix: '/', headers: [{ name: ':authority', string_match: { safe_regex: { regex: routing.meshAuthority } } }] },
      route: { cluster: routing.meshCluster, timeout: '0s' },
    });
  }
  routes.push({ match: { prefix: '/' }, route: { cluster: routing.cluster, timeout: '0s' } });
  return typed('envoy.filters.network.http_connection_manager', 'extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
    stat_prefix: statPrefix,
    codec_type: 'AUTO',
    route_config: { name: statPrefix, virtual_hosts: [{ name: statPrefix, domains: ['*'], routes }] },
    http_filters: [...filters, typed('envoy.filters.http.router', 'extensions.filters.http.router.v3.Router')],
    ...extra,
  });
}

function tcpProxy(statPrefix: string, cluster: string): Json {
  return typed('envoy.filters.network.tcp_proxy', 'extensions.filters.network.tcp_proxy.v3.TcpProxy', { stat_prefix: statPrefix, cluster });
}

/** A listener for two paths of the admin interface (reached over its socket); anything else is a 404. */
function adminListener(name: string, port: number, routes: Json[]): Json {
  return {
    name,
    address: socket('0.0.0.0', port),
    filter_chains: [
      {
        filters: [
          typed('envoy.filters.network.http_connection_manager', 'extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
            stat_prefix: name,
            codec_type: 'AUTO',
            route_config: { name, virtual_hosts: [{ name, domains: ['*'], routes: [...routes, { match: { prefix: '/' }, direct_response: { status: 404 } }] }] },
            http_filters: [typed('envoy.filters.http.router', 'extensions.filters.http.router.v3.Router')],
          }),
        ],
      },
    ],
  };
}

/** A cluster that connects to where the redirected connection was going; HTTP keeps the caller's protocol. */
function originalDst(name: string, transportSocket: Json | undefined, http: boolean): Json {
  return {
    name,
    type: 'ORIGINAL_DST',
    lb_policy: 'CLUSTER_PROVIDED',
    connect_timeout: '10s',
    ...(transportSocket ? { transport_socket: transportSocket } : {}),
    ...(http
      ? {
          typed_extension_protocol_options: {
            'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
              '@type': `${TYPE}extensions.upstreams.http.v3.HttpProtocolOptions`,
              use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} },
            },
          },
        }
      : {}),
  };
}

function authzCluster(address: string): Json {
  const { host, port } = hostPort(address);
  return {
    name: CLUSTERS.authz,
    type: 'STRICT_DNS',
    connect_timeout: '1s',
    dns_lookup_family: 'V4_PREFERRED',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': `${TYPE}extensions.upstreams.http.v3.HttpProtocolOptions`,
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: { cluster_name: CLUSTERS.authz, endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(host, port) } }] }] },
  };
}

function cidrRange(cidr: string): Json {
  const [ip = '', bits = ''] = cidr.split('/');
  if (!/^[0-9a-fA-F.:]+$/.test(ip) || !/^[0-9]{1,3}$/.test(bits)) throw new Error(`${JSON.stringify(cidr)} is not a CIDR range`);
  return { address_prefix: ip, prefix_len: Number(bits) };
}

/**
 * The :authority of HTTP to a name inside the cluster: a short name (no dot: a Service of the same
 * namespace), <svc>.<ns>.svc, <svc>.<ns>.svc.<cluster domain>, or a configured in-mesh suffix; any port.
 */
export function meshAuthorityRegex(mesh: BootstrapOptions['mesh']): string {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const suffixes = ['.svc', `.svc.${mesh.clusterDomain}`, ...mesh.hostSuffixes].map((s) => escape(s.startsWith('.') ? s : `.${s}`));
  return `(?i)^([^.:]+|[^:]+(${suffixes.join('|')}))(:[0-9]+)?$`;
}
