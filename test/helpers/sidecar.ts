// Reading what the injector put in a Pod: the proxy's Envoy bootstrap and the init container's redirect script.

/** Any container shape: the client's V1Container, a rendered template item, a parsed object. */
type Container = object;

/** The Envoy bootstrap on the proxy's command line (--config-yaml), parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function bootstrapOf(proxy: Container | undefined): any {
  const args = ((proxy as { args?: unknown } | undefined)?.args ?? []) as string[];
  const i = args.indexOf('--config-yaml');
  if (i < 0 || args[i + 1] === undefined) throw new Error('the proxy has no --config-yaml');
  return JSON.parse(args[i + 1] as string);
}

/** The shell script the init container runs (sh -c SCRIPT). */
export function redirectOf(init: Container | undefined): string {
  const script = ((init as { args?: unknown } | undefined)?.args as unknown[] | undefined)?.[0];
  if (typeof script !== 'string') throw new Error('the init container has no script');
  return script;
}

/** host:port of a STRICT_DNS or STATIC cluster of the bootstrap. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function clusterTarget(bootstrap: any, name: string): string {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const cluster = bootstrap.static_resources.clusters.find((c: any) => c.name === name);
  const { address, port_value } = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
  return `${address}:${port_value}`;
}

/** The gRPC service the proxy gets its secrets from (the bootstrap's ADS stream). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function sdsServiceOf(bootstrap: any): any {
  return bootstrap.dynamic_resources.ads_config.grpc_services[0].google_grpc;
}
