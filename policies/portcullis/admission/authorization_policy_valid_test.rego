package portcullis.admission_test

import rego.v1

test_unknown_condition_keys_denied_whatever_the_action if {
	every action in ["ALLOW", "DENY", "AUDIT"] {
		inp := create(authorization_policy({"action": action, "rules": [{"from": [caller], "when": [{"key": "source.namespaces", "values": ["evil"]}]}]}))
		only(inp, "authorization-policy-valid-rules")
		{v.details.field | some v in violations(inp)} == {"spec.rules[0].when[0].key"}
	}
	inp := create(authorization_policy({"action": "DENY", "rules": [{"when": [{"key": "source.namespaces", "values": ["evil"]}]}]}))
	messages(inp, "authorization-policy-valid-rules") == {"AuthorizationPolicy spec.rules[0].when[0].key \"source.namespaces\" is not an attribute Istio knows, so Istio skips spec.rules[0] entirely (a DENY rule would stop denying): use one of connection.sni, destination.ip, destination.port, remote.ip, request.auth.audiences, request.auth.presenter, request.auth.principal, source.ip, source.namespace, source.principal, source.serviceAccount, source.trustDomain, request.headers[<name>], request.auth.claims[<name>]"}
}

test_known_condition_keys_allowed if {
	every key in [
		"source.ip", "remote.ip", "source.namespace", "source.serviceAccount", "source.principal", "source.trustDomain",
		"request.auth.principal", "request.auth.audiences", "request.auth.presenter", "destination.ip", "destination.port",
		"connection.sni", "request.headers[x-tenant]", "request.auth.claims[groups]", "request.auth.claims[nested][claim]",
		"experimental.envoy.filters.network.mysql_proxy[db.table]",
	] {
		clean(create(authorization_policy({"action": "DENY", "rules": [{"when": [{"key": key, "values": ["x"]}]}]})))
	}
}

test_bracket_keys_need_a_name if {
	every key in ["request.headers", "request.headers[]", "request.auth.claims", "destination.labels[app]", "destination.namespace", "experimental.envoy.filters.x"] {
		only(create(authorization_policy({"action": "DENY", "rules": [{"when": [{"key": key, "values": ["x"]}]}]})), "authorization-policy-valid-rules")
	}
}

test_condition_key_under_its_proto_spelling_is_read if {
	inp := create(authorization_policy({"action": "DENY", "rules": [{"when": [{"key": "source.namespaces", "not_values": ["x"]}]}]}))
	only(inp, "authorization-policy-valid-rules")
}

test_valid_custom_policy_allowed if {
	clean(create(authorization_policy({"action": "CUSTOM", "provider": {"name": "portcullis"}, "rules": [{"to": [{"operation": {"paths": ["/admin/*"]}}]}]})))
}
