# Istio kinds that change the proxy itself, below the policies the other rules judge, are refused unless
# an operator allowlists the namespace for that kind (allowlists.proxyExtensions.<Kind>: namespace names
# or globs; none by default). Each can undo STRICT mTLS or the authorization filters for every workload
# it selects, and in the root namespace for the whole mesh:
#   EnvoyFilter       patches the Envoy configuration istiod generates: REMOVE or REPLACE the RBAC and
#                     ext_authz filters, add a filter that answers first, change a listener's TLS context.
#   WasmPlugin        runs Wasm code fetched from its url in the proxy, in the AUTHN or AUTHZ phase (before
#                     Istio's authorization filters) or after them: it can change the request authorization
#                     sees, or what the workload receives once it was authorized.
#   TrafficExtension  the same with Wasm or inline Lua.
#   ProxyConfig       environmentVariables become the proxy's environment, and ISTIO_META_* variables the node
#                     metadata istiod builds the proxy's configuration from: ISTIO_META_TLS_SERVER_ROOT_CERT
#                     replaces the CA that verifies peer certificates. Its other fields (concurrency, image)
#                     are allowed.
# Not covered, because they cannot remove the enforcement of a workload: Sidecar (its ingress TLS applies
# only where PeerAuthentication says DISABLE, which peer-authentication-strict refuses, and its listeners
# keep the authorization filters), Telemetry (logs, metrics and traces only), VirtualService,
# DestinationRule (held to ISTIO_MUTUAL by its own rule), ServiceEntry, Gateway, WorkloadEntry (routing and
# exposure: the server's proxy still enforces). docs/istio-rules.md gives the evidence for each.
package portcullis.admission

import rego.v1

proxy_extension_kinds := {
	"networking.istio.io/EnvoyFilter": "patches the Envoy configuration Istio generates, so it can remove the authorization (RBAC, ext_authz) filters or the peer verification of every workload it selects",
	"extensions.istio.io/WasmPlugin": "runs Wasm code in the proxy, before or after the authorization filters, so it can change a request after it was authorized or answer for the workload",
	"extensions.istio.io/TrafficExtension": "runs Wasm or Lua code in the proxy, before or after the authorization filters, so it can change a request after it was authorized or answer for the workload",
}

proxy_extension_allowed if {
	some pattern in object.get(allowed_proxy_extensions, kind_name, [])
	matches_any([pattern], request_namespace)
}

proxy_extension_message(what) := concat("", [
	kind_name, " ", what, ": namespace ", quote(request_namespace), " is not allowlisted for ", kind_name,
	" (an operator adds it to allowlists.proxyExtensions.", kind_name, " in policy data); use AuthorizationPolicy,",
	" PeerAuthentication or RequestAuthentication for what they cover",
])

violation contains {
	"rule": "proxy-extension-allowlist",
	"msg": proxy_extension_message(proxy_extension_kinds[group_kind]),
	"details": {"kind": kind_name, "namespace": request_namespace},
} if {
	proxy_extension_kinds[group_kind]
	spec_changed
	not proxy_extension_allowed
}

violation contains {
	"rule": "proxy-extension-allowlist",
	"msg": proxy_extension_message(concat("", [
		"spec.environmentVariables sets ", concat(", ", sort([text(k) | some k, _ in variables])),
		" in the proxy's environment, and ISTIO_META_* variables become the metadata istiod configures the proxy",
		" from (ISTIO_META_TLS_SERVER_ROOT_CERT replaces the CA that verifies peers)",
	])),
	"details": {"kind": kind_name, "namespace": request_namespace, "field": "spec.environmentVariables"},
} if {
	group_kind == "networking.istio.io/ProxyConfig"
	spec_changed
	variables := istio_get(spec, "environmentVariables", {})
	count(variables) > 0
	not proxy_extension_allowed
}
