package portcullis.admission_test

import rego.v1

authorization_policy(spec) := istio("AuthorizationPolicy", "payments-access", spec)

caller := {"source": {"principals": ["cluster.local/ns/web/sa/frontend"]}}

test_specific_allow_allowed if {
	spec := {
		"selector": {"matchLabels": {"app": "payments"}},
		"action": "ALLOW",
		"rules": [{"from": [caller], "to": [{"operation": {"methods": ["GET"], "paths": ["/api/*"]}}]}],
	}
	clean(create(authorization_policy(spec)))
}

test_allow_nothing_and_deny_policies_allowed if {
	clean(create(authorization_policy({})))
	clean(create(authorization_policy({"action": "DENY", "rules": [{}]})))
	clean(create(authorization_policy({"action": "DENY", "rules": [{"from": [{"source": {"principals": ["*"]}}]}]})))
	clean(create(authorization_policy({"action": "AUDIT", "rules": [{}]})))
}

test_empty_rule_allows_everything if {
	inp := create(authorization_policy({"rules": [{}]}))
	only(inp, "authorization-policy-no-allow-all")
	messages(inp, "authorization-policy-no-allow-all") == {"AuthorizationPolicy spec.rules[0] matches every request, so this ALLOW policy allows everything: add from.source (principals or namespaces), to.operation or when conditions to it, or remove it (an ALLOW policy without rules allows nothing)"}
	only(create(authorization_policy({"action": "ALLOW", "rules": [{}]})), "authorization-policy-no-allow-all")
}

test_rules_with_only_empty_parts_allow_everything if {
	every rule in [{"from": []}, {"from": [{"source": {}}]}, {"to": [{"operation": {}}]}, {"when": []}, {"from": [{"source": {"principals": []}}]}] {
		only(create(authorization_policy({"rules": [caller_rule, rule]})), "authorization-policy-no-allow-all")
	}
}

caller_rule := {"from": [caller]}

test_when_condition_constrains if {
	clean(create(authorization_policy({"rules": [{"when": [{"key": "request.auth.claims[iss]", "values": ["https://issuer.example.com"]}]}]})))
}

test_wildcard_principals_and_namespaces_denied if {
	spec := {"rules": [
		{"from": [{"source": {"principals": ["cluster.local/ns/web/sa/frontend", "*"]}}]},
		{"from": [caller, {"source": {"namespaces": ["*"]}}], "to": [{"operation": {"methods": ["GET"]}}]},
	]}
	inp := create(authorization_policy(spec))
	only(inp, "authorization-policy-no-allow-all")
	{v.details.field | some v in violations(inp)} == {"spec.rules[0].from[0].source.principals", "spec.rules[1].from[1].source.namespaces"}
	"AuthorizationPolicy spec.rules[0].from[0].source.principals contains \"*\", which admits any caller: list the calling identities, e.g. cluster.local/ns/<namespace>/sa/<service-account>" in messages(inp, "authorization-policy-no-allow-all")
}

test_trust_domain_wide_principals_are_wildcards if {
	every p in ["cluster.local/*", "cluster.local/ns/*", "*/ns/*"] {
		only(create(authorization_policy({"rules": [{"from": [{"source": {"principals": [p]}}]}]})), "authorization-policy-no-allow-all")
	}
}

test_namespace_scoped_principal_patterns_allowed if {
	every p in ["cluster.local/ns/web/sa/*", "*/ns/web/sa/frontend"] {
		clean(create(authorization_policy({"rules": [{"from": [{"source": {"principals": [p]}}]}]})))
	}
	clean(create(authorization_policy({"rules": [{"from": [{"source": {"namespaces": ["web-*"]}}]}]})))
}

test_update_to_allow_all_denied_and_delete_allowed if {
	good := authorization_policy({"rules": [caller_rule]})
	bad := authorization_policy({"rules": [{}]})
	only(update(good, bad), "authorization-policy-no-allow-all")
	clean(update(bad, object.union(bad, {"metadata": {"labels": {"x": "y"}}})))
	clean(delete_in_mesh(bad))
}

test_operation_only_rule_constrains if {
	clean(create(authorization_policy({"rules": [{"to": [{"operation": {"methods": ["GET"], "paths": ["/healthz"]}}]}]})))
}
