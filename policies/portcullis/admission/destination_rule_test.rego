package portcullis.admission_test

import rego.v1

destination_rule(spec) := istio("DestinationRule", "dr", spec)

tls(mode) := {"tls": {"mode": mode}}

test_istio_mutual_allowed if clean(create(destination_rule({"host": "payments", "trafficPolicy": tls("ISTIO_MUTUAL")})))

test_no_tls_block_keeps_auto_mtls if {
	clean(create(destination_rule({"host": "payments", "trafficPolicy": {"connectionPool": {"tcp": {"maxConnections": 10}}}})))
}

test_in_mesh_hosts_require_istio_mutual if {
	every host in ["payments", "payments.team.svc", "payments.team.svc.cluster.local", "*.team.svc.cluster.local", "*.team.svc", "*", "Payments.Team.SVC"] {
		only(create(destination_rule({"host": host, "trafficPolicy": tls("SIMPLE")})), "destination-rule-istio-mutual")
	}
}

test_wildcard_hosts_covering_the_mesh_require_istio_mutual if {
	every host in ["*.local", "*.cluster.local", "*.svc.cluster.local", "*.team.svc.cluster.local", "*.svc", "*.team.svc", "*.LOCAL"] {
		only(create(destination_rule({"host": host, "trafficPolicy": tls("SIMPLE")})), "destination-rule-istio-mutual")
		only(create(destination_rule({"host": host, "trafficPolicy": tls("DISABLE")})), "destination-rule-istio-mutual")
		clean(create(destination_rule({"host": host, "trafficPolicy": tls("ISTIO_MUTUAL")})))
	}
}

test_wildcard_external_hosts_may_use_simple_tls if {
	every host in ["*.example.com", "*.stripe.com", "*.localhost", "*.cluster.local.example.com", "*.svc.example.com", "*.internal"] {
		clean(create(destination_rule({"host": host, "trafficPolicy": tls("SIMPLE")})))
	}
}

test_wildcard_host_covering_a_configured_suffix_is_in_mesh if {
	every host in ["*.internal", "*.mesh.internal", "*.b.mesh.internal"] {
		only(create(destination_rule({"host": host, "trafficPolicy": tls("SIMPLE")})), "destination-rule-istio-mutual") with data.portcullis.config.mesh.inMeshHostSuffixes as [".mesh.internal"]
	}
	clean(create(destination_rule({"host": "*.other.internal", "trafficPolicy": tls("SIMPLE")}))) with data.portcullis.config.mesh.inMeshHostSuffixes as [".mesh.internal"]
}

test_external_host_may_use_simple_tls if {
	clean(create(destination_rule({"host": "api.stripe.com", "trafficPolicy": tls("SIMPLE")})))
}

test_configured_suffix_is_in_mesh if {
	inp := create(destination_rule({"host": "ledger.mesh.internal", "trafficPolicy": tls("DISABLE")}))
	clean(inp)
	only(inp, "destination-rule-istio-mutual") with data.portcullis.config.mesh.inMeshHostSuffixes as [".mesh.internal"]
}

test_message_names_host_field_and_mode if {
	inp := create(destination_rule({"host": "payments", "trafficPolicy": tls("DISABLE")}))
	messages(inp, "destination-rule-istio-mutual") == {"DestinationRule host \"payments\" is inside the mesh but spec.trafficPolicy.tls.mode is DISABLE for all ports: set spec.trafficPolicy.tls.mode to ISTIO_MUTUAL, or remove the tls block to keep Istio's automatic mTLS"}
}

test_tls_block_without_mode_means_disable if {
	inp := create(destination_rule({"host": "payments", "trafficPolicy": {"tls": {"sni": "x"}}}))
	{v.details.mode | some v in violations(inp)} == {"DISABLE (the default when unset)"}
}

test_port_level_settings_and_subsets_checked if {
	spec := {
		"host": "payments.team.svc.cluster.local",
		"trafficPolicy": {
			"tls": {"mode": "ISTIO_MUTUAL"},
			"portLevelSettings": [{"port": {"number": 9000}, "tls": {"mode": "MUTUAL"}}, {"port": {"number": 8080}, "tls": {"mode": "ISTIO_MUTUAL"}}],
		},
		"subsets": [
			{"name": "v1", "labels": {"version": "v1"}, "trafficPolicy": tls("SIMPLE")},
			{"name": "v2", "labels": {"version": "v2"}, "trafficPolicy": {"portLevelSettings": [{"port": {"number": 9102}, "tls": {"mode": "DISABLE"}}]}},
			{"name": "v3", "labels": {"version": "v3"}},
		],
	}
	inp := create(destination_rule(spec))
	{v.details.field | some v in violations(inp)} == {
		"spec.trafficPolicy.portLevelSettings[0].tls.mode",
		"spec.subsets[0].trafficPolicy.tls.mode",
		"spec.subsets[1].trafficPolicy.portLevelSettings[0].tls.mode",
	}
	"DestinationRule host \"payments.team.svc.cluster.local\" is inside the mesh but spec.subsets[1].trafficPolicy.portLevelSettings[0].tls.mode is DISABLE for subset \"v2\" port 9102: set spec.subsets[1].trafficPolicy.portLevelSettings[0].tls.mode to ISTIO_MUTUAL, or remove the tls block to keep Istio's automatic mTLS" in messages(inp, "destination-rule-istio-mutual")
}

test_scopes_without_port_number_or_subset_name if {
	spec := {
		"host": "payments",
		"trafficPolicy": {"portLevelSettings": [{"port": {"name": "http"}, "tls": {"mode": "SIMPLE"}}]},
		"subsets": [{"labels": {"version": "v1"}, "trafficPolicy": tls("SIMPLE")}],
	}
	msgs := messages(create(destination_rule(spec)), "destination-rule-istio-mutual")
	some m1 in msgs
	contains(m1, "SIMPLE for a port:")
	some m2 in msgs
	contains(m2, "SIMPLE for a subset:")
}

test_destination_rule_metadata_update_not_rechecked if {
	old := destination_rule({"host": "payments", "trafficPolicy": tls("SIMPLE")})
	clean(update(old, object.union(old, {"metadata": {"labels": {"a": "b"}}})))
}
