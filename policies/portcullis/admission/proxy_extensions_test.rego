package portcullis.admission_test

import rego.v1

envoy_filter_removing_rbac := istio("EnvoyFilter", "no-rbac", {
	"workloadSelector": {"labels": {"app": "payments"}},
	"configPatches": [{
		"applyTo": "HTTP_FILTER",
		"match": {"context": "SIDECAR_INBOUND", "listener": {"filterChain": {"filter": {"name": "envoy.filters.network.http_connection_manager", "subFilter": {"name": "envoy.filters.http.rbac"}}}}},
		"patch": {"operation": "REMOVE"},
	}],
})

wasm_plugin := istio("WasmPlugin", "rewrite", {"selector": {"matchLabels": {"app": "payments"}}, "url": "oci://ghcr.io/evil/rewrite:1", "phase": "STATS"})

lua_extension := istio("TrafficExtension", "lua", {"phase": "AUTHZ", "lua": {"inlineCode": "function envoy_on_request(h) h:headers():replace(':path', '/admin') end"}})

proxy_config_env := istio("ProxyConfig", "ca", {"selector": {"matchLabels": {"app": "payments"}}, "environmentVariables": {"ISTIO_META_TLS_SERVER_ROOT_CERT": "/etc/evil/root.pem"}})

test_proxy_extensions_refused_unless_allowlisted if {
	every obj in [envoy_filter_removing_rbac, wasm_plugin, lua_extension, proxy_config_env] {
		only(create(obj), "proxy-extension-allowlist")
		only(create_in_mesh(obj), "proxy-extension-allowlist")
		clean(create(obj)) with data.portcullis.config.allowlists.proxyExtensions as {obj.kind: ["team"]}
		clean(create(obj)) with data.portcullis.config.allowlists.proxyExtensions as {obj.kind: ["te*"]}
		only(create(obj), "proxy-extension-allowlist") with data.portcullis.config.allowlists.proxyExtensions as {obj.kind: ["other"]}
	}
	only(create(wasm_plugin), "proxy-extension-allowlist") with data.portcullis.config.allowlists.proxyExtensions as {"EnvoyFilter": ["team"]}
	messages(create(envoy_filter_removing_rbac), "proxy-extension-allowlist") == {"EnvoyFilter patches the Envoy configuration Istio generates, so it can remove the authorization (RBAC, ext_authz) filters or the peer verification of every workload it selects: namespace \"team\" is not allowlisted for EnvoyFilter (an operator adds it to allowlists.proxyExtensions.EnvoyFilter in policy data); use AuthorizationPolicy, PeerAuthentication or RequestAuthentication for what they cover"}
}

test_proxy_config_without_environment_allowed if {
	clean(create(istio("ProxyConfig", "tuning", {"concurrency": 2, "image": {"imageType": "distroless"}})))
	clean(create(istio("ProxyConfig", "tuning", {"environmentVariables": {}})))
	only(create(istio("ProxyConfig", "ca", {"environment_variables": {"ISTIO_META_TLS_SERVER_ROOT_CERT": "/x"}})), "proxy-extension-allowlist")
}

test_proxy_extension_updates_and_deletes if {
	only(update(wasm_plugin, object.union(wasm_plugin, {"spec": {"phase": "AUTHN"}})), "proxy-extension-allowlist")
	clean(update(wasm_plugin, object.union(wasm_plugin, {"metadata": {"labels": {"x": "y"}}})))
	clean(review("DELETE", null, envoy_filter_removing_rbac, plain_namespace))
}

test_allowlisted_extensions_are_still_schema_checked if {
	bad := istio("EnvoyFilter", "bad", {"configPatches": [{"applyTo": "HTTP_FILTERS", "patch": {"operation": "REMOVE"}}]})
	only(create(bad), "object-schema") with data.portcullis.config.allowlists.proxyExtensions as {"EnvoyFilter": ["team"]}
}
