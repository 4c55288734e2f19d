package portcullis.admission_test

import rego.v1

peer_authentication(spec) := istio("PeerAuthentication", "mtls", spec)

root_peer_authentication(spec) := object.union(peer_authentication(spec), {"metadata": {"namespace": "istio-system"}})

in_root_namespace(inp) := object.union(inp, {"request": {"namespace": "istio-system"}})

test_strict_allowed if clean(create(peer_authentication({"mtls": {"mode": "STRICT"}})))

test_permissive_denied if {
	inp := create(peer_authentication({"mtls": {"mode": "PERMISSIVE"}}))
	only(inp, "peer-authentication-strict")
	messages(inp, "peer-authentication-strict") == {"PeerAuthentication spec.mtls.mode is PERMISSIVE: set spec.mtls.mode to STRICT so every workload only accepts mutual TLS"}
}

test_disable_denied if only(create(peer_authentication({"mtls": {"mode": "DISABLE"}})), "peer-authentication-strict")

test_misspelled_mode_denied if only(create(peer_authentication({"mtls": {"mode": "strict"}})), "peer-authentication-strict")

test_absent_or_unset_mode_inherits_outside_root_namespace if {
	clean(create(peer_authentication({})))
	clean(create(peer_authentication({"mtls": {}})))
	clean(create(peer_authentication({"mtls": {"mode": "UNSET"}})))
}

test_mesh_wide_policy_must_say_strict if {
	every spec in [{}, {"mtls": {"mode": "UNSET"}}] {
		inp := in_root_namespace(create(root_peer_authentication(spec)))
		messages(inp, "peer-authentication-strict") == {"mesh-wide PeerAuthentication (namespace istio-system, no selector) leaves spec.mtls.mode unset, which falls back to Istio's PERMISSIVE default: set spec.mtls.mode to STRICT"}
	}
	clean(in_root_namespace(create(root_peer_authentication({"mtls": {"mode": "STRICT"}}))))
}

test_workload_policy_in_root_namespace_may_inherit if {
	spec := {"selector": {"matchLabels": {"app": "gateway"}}}
	clean(in_root_namespace(create(root_peer_authentication(spec))))
}

test_root_namespace_from_data if {
	inp := create(peer_authentication({}))
	only(inp, "peer-authentication-strict") with data.portcullis.config.mesh.rootNamespace as "team"
}

test_port_level_permissive_and_disable_denied if {
	spec := {
		"selector": {"matchLabels": {"app": "a"}},
		"mtls": {"mode": "STRICT"},
		"portLevelMtls": {"8080": {"mode": "PERMISSIVE"}, "9102": {"mode": "DISABLE"}, "9000": {"mode": "STRICT"}, "9001": {"mode": "UNSET"}, "9002": {}},
	}
	inp := create(peer_authentication(spec))
	{v.details.port | some v in violations(inp)} == {"8080", "9102"}
	"PeerAuthentication spec.portLevelMtls[\"9102\"].mode is DISABLE for port 9102: set it to STRICT, or remove the port entry so the port inherits spec.mtls.mode" in messages(inp, "peer-authentication-strict")
}

test_fixing_update_allowed_and_weakening_update_denied if {
	strict := peer_authentication({"mtls": {"mode": "STRICT"}})
	permissive := peer_authentication({"mtls": {"mode": "PERMISSIVE"}})
	clean(update(permissive, strict))
	only(update(strict, permissive), "peer-authentication-strict")
}

test_delete_of_permissive_policy_allowed if clean(delete_in_mesh(peer_authentication({"mtls": {"mode": "PERMISSIVE"}})))
