package portcullis.admission_test

import rego.v1

import data.portcullis.admission

schema_fields(inp) := {v.details.field | some v in violations(inp); v.rule == "object-schema"}

test_the_walk_reaches_the_deepest_schema_node if {
	# One level per field of the deepest pattern: a deeper schema would leave nodes unchecked.
	admission.istio_levels >= data.portcullis.istio.depth
	deep := {"host": "payments", "subsets": [{"name": "v1", "trafficPolicy": {"portLevelSettings": [{"port": {"number": 80}, "loadBalancer": {"localityLbSetting": {"distribute": [{"from": "a/*", "to": {"b/*": "100"}}]}}}]}}]}
	inp := create(destination_rule(deep))
	schema_fields(inp) == {"spec.subsets[0].trafficPolicy.portLevelSettings[0].loadBalancer.localityLbSetting.distribute[0].to[\"b/*\"]"}
	clean(create(destination_rule(json.patch(deep, [{"op": "replace", "path": "/subsets/0/trafficPolicy/portLevelSettings/0/loadBalancer/localityLbSetting/distribute/0/to/b~1*", "value": 100}]))))
}

test_every_judged_kind_has_a_schema if {
	every kind in ["AuthorizationPolicy", "PeerAuthentication", "RequestAuthentication", "DestinationRule", "EnvoyFilter", "ProxyConfig", "WasmPlugin", "TrafficExtension"] {
		some group_kind, _ in data.portcullis.istio.kinds
		endswith(group_kind, concat("", ["/", kind]))
	}
}

test_unknown_rule_fields_denied if {
	inp := create(authorization_policy({"rules": [{"from": [caller], "source": {"principals": ["x"]}}]}))
	only(inp, "object-schema")
	messages(inp, "object-schema") == {"AuthorizationPolicy spec.rules[0] uses unknown field source, which Istio ignores: a rule holds only from, to and when, and conditions such as key/values belong under when, e.g. spec.rules[0]: {when: [{key: <attribute>, values: [...]}]}"}
}

test_source_fields_outside_source_denied if {
	inp := create(authorization_policy({"rules": [{"from": [{"principals": ["cluster.local/ns/web/sa/frontend"]}]}]}))
	only(inp, "object-schema")
	messages(inp, "object-schema") == {"AuthorizationPolicy spec.rules[0].from[0] uses unknown field principals, which Istio ignores: caller fields belong under source, e.g. from: [{source: {principals: [...]}}]"}
}

test_operation_fields_outside_operation_denied if {
	inp := create(authorization_policy({"rules": [{"from": [caller], "to": [{"methods": ["GET"], "paths": ["/"]}]}]}))
	messages(inp, "object-schema") == {"AuthorizationPolicy spec.rules[0].to[0] uses unknown fields methods/paths, which Istio ignores: request fields belong under operation, e.g. to: [{operation: {methods: [...], paths: [...]}}]"}
}

test_condition_fields_checked if {
	inp := create(authorization_policy({"rules": [{"when": [{"key": "source.ip", "value": "10.0.0.1"}]}]}))
	rules(inp) == {"object-schema"}
	schema_fields(inp) == {"spec.rules[0].when[0]"}
}

test_rules_must_be_a_list_of_objects if {
	only(create(authorization_policy({"rules": {"from": [caller]}})), "object-schema")
	inp := create(authorization_policy({"rules": ["allow-all"]}))
	messages(inp, "object-schema") == {"AuthorizationPolicy spec.rules[0] is \"allow-all\", but Istio reads it as an object: fix the value (Istio would ignore this AuthorizationPolicy, or read it differently from what it says)"}
}

test_unknown_action_denied if {
	inp := create(authorization_policy({"action": "PERMIT", "rules": [caller_rule]}))
	messages(inp, "object-schema") == {"AuthorizationPolicy spec.action is \"PERMIT\", but Istio reads it as one of ALLOW, AUDIT, CUSTOM, DENY (or its number): fix the value (Istio would ignore this AuthorizationPolicy, or read it differently from what it says)"}
}

test_values_of_the_wrong_type_denied if {
	every case in [
		[{"mtls": {"mode": null}, "portLevelMtls": {"80": null}, "selector": {"matchLabels": {"app": "a"}}}, "spec.portLevelMtls[\"80\"]"],
		[{"mtls": "STRICT"}, "spec.mtls"],
		[{"mtls": {"mode": true}}, "spec.mtls.mode"],
		[{"mtls": {"mode": 7}}, "spec.mtls.mode"],
		[{"mtls": {"mode": 2.5}}, "spec.mtls.mode"],
		[{"mtls": {"mode": "3"}}, "spec.mtls.mode"],
		[{"mtls": {"mode": ["STRICT"]}}, "spec.mtls.mode"],
		[{"selector": {"matchLabels": {"app": 1}}}, "spec.selector.matchLabels[\"app\"]"],
		[{"selector": {"matchLabels": ["app"]}}, "spec.selector.matchLabels"],
		[{"selector": {"match_labels": {"app": {}}}}, "spec.selector.match_labels[\"app\"]"],
	] {
		[spec, field] := case
		field in schema_fields(create(peer_authentication(spec)))
	}
	every spec in ["STRICT", 3, [], true] {
		schema_fields(create(peer_authentication(spec))) == {"spec"}
	}
}

test_null_is_not_set if {
	clean(create(peer_authentication({"mtls": null, "selector": null, "portLevelMtls": null})))
	clean(create(peer_authentication({"mtls": {"mode": null}})))
	clean(create(authorization_policy({"action": null, "rules": null})))
	schema_fields(create(authorization_policy({"rules": [null]}))) == {"spec.rules[0]"}
	schema_fields(create(authorization_policy({"rules": [{"from": [{"source": {"principals": [null]}}]}]}))) == {"spec.rules[0].from[0].source.principals[0]"}
}

test_proto_names_and_enum_numbers_are_istios if {
	clean(create(peer_authentication({"mtls": {"mode": 3}})))
	clean(create(peer_authentication({"selector": {"match_labels": {"app": "a"}}, "port_level_mtls": {"8080": {"mode": "STRICT"}}})))
	clean(create(authorization_policy({"action": 1, "rules": [{"when": [{"key": "source.ip", "not_values": ["10.0.0.1"]}]}]})))
	clean(create(destination_rule({"host": "payments", "traffic_policy": {"tls": {"mode": 3}}})))
	clean(create(request_authentication([{"issuer": "https://issuer.example.com", "jwks_uri": "https://issuer.example.com/keys", "from_headers": [{"name": "x-jwt"}]}])))
}

test_the_same_field_under_both_names_denied if {
	inp := create(peer_authentication({"selector": {"matchLabels": {"app": "a"}}, "portLevelMtls": {"80": {"mode": "STRICT"}}, "port_level_mtls": {"80": {"mode": "DISABLE"}}}))
	messages(inp, "object-schema") == {"PeerAuthentication spec sets portLevelMtls twice (portLevelMtls and port_level_mtls), and Istio reads only one of them: keep portLevelMtls"}
}

test_required_fields if {
	inp := create(destination_rule({"trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL"}}}))
	messages(inp, "object-schema") == {"DestinationRule spec needs host, which Istio requires here: set it"}
	schema_fields(create(authorization_policy({"action": "DENY", "rules": [{"when": [{"values": ["x"]}]}]}))) == {"spec.rules[0].when[0]"}
	schema_fields(create(request_authentication([{"issuer": "https://issuer.example.com", "fromHeaders": [{"prefix": "Bearer "}]}]))) == {"spec.jwtRules[0].fromHeaders[0]"}
	clean(create(destination_rule({"host": "payments"})))
}

test_port_keys_must_be_numbers if {
	every key in ["http", "080", "-1", "1e3", " 80", "4294967296", ""] {
		inp := create(peer_authentication({"selector": {"matchLabels": {"app": "a"}}, "portLevelMtls": {key: {"mode": "STRICT"}}}))
		schema_fields(inp) == {"spec.portLevelMtls"}
	}
	clean(create(peer_authentication({"selector": {"matchLabels": {"app": "a"}}, "portLevelMtls": {"0": {"mode": "STRICT"}, "65535": {"mode": "STRICT"}}})))
}

test_unknown_fields_name_what_istio_reads if {
	inp := create(peer_authentication({"mtls": {"mode": "STRICT", "strict": true}}))
	messages(inp, "object-schema") == {"PeerAuthentication spec.mtls uses unknown field strict, which Istio ignores: the fields Istio reads here are mode"}
	schema_fields(create(peer_authentication({"portLevelMTLS": {"80": {"mode": "DISABLE"}}}))) == {"spec"}
}

test_open_fields_take_anything if {
	clean(create(istio("EnvoyFilter", "ef", {"configPatches": [{"applyTo": "HTTP_FILTER", "patch": {"operation": "REMOVE", "value": {"any": ["thing", 1, null]}}}]}))) with data.portcullis.config.allowlists.proxyExtensions as {"EnvoyFilter": ["team"]}
}

test_metadata_only_update_of_a_malformed_object_allowed if {
	bad := peer_authentication({"mtls": {"mode": 7}})
	clean(update(bad, object.union(bad, {"metadata": {"labels": {"x": "y"}}})))
	rules(update(peer_authentication({}), bad)) == {"object-schema", "peer-authentication-strict"}
}

test_other_kinds_are_not_walked if {
	clean(create(istio("VirtualService", "vs", {"anything": {"goes": 1}})))
}

test_missing_schema_data_fails_closed if {
	inp := create(peer_authentication({"mtls": {"mode": "STRICT"}}))
	only(inp, "object-schema") with data.portcullis.istio as {}
}
