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

allow_all_fields(rule) := {v.details.field | some v in violations(create(authorization_policy({"rules": [rule]})))}

only_allow_all(rule) if only(create(authorization_policy({"rules": [rule]})), "authorization-policy-no-allow-all")

clean_rule(rule) if clean(create(authorization_policy({"rules": [rule]})))

test_wildcard_only_operations_allow_everything if {
	every op in [
		{"paths": ["*"]}, {"paths": ["/*"]}, {"methods": ["*"]}, {"hosts": ["*"]}, {"ports": ["*"]},
		{"methods": ["GET", "*"]}, {"paths": ["*"], "methods": ["*"], "hosts": ["*"]},
		{"notPaths": ["/admin/*"]}, {"paths": ["*"], "notMethods": ["DELETE"]},
	] {
		only_allow_all({"to": [{"operation": op}]})
		allow_all_fields({"to": [{"operation": op}]}) == {"spec.rules[0]"}
	}
	only_allow_all({"to": [{"operation": {"methods": ["GET"], "paths": ["/api/*"]}}, {"operation": {"paths": ["*"]}}]})
}

test_wildcard_operation_message_names_the_fields if {
	inp := create(authorization_policy({"rules": [caller_rule, {"to": [{"operation": {"paths": ["*"], "notPaths": ["/admin"]}}]}]}))
	messages(inp, "authorization-policy-no-allow-all") == {"AuthorizationPolicy spec.rules[1] matches every request, so this ALLOW policy allows everything: add from.source (principals or namespaces), to.operation or when conditions to it, or remove it (an ALLOW policy without rules allows nothing) (spec.rules[1].to[0].operation has only wildcards or exclusions (notPaths, paths); wildcards and not* fields do not narrow a rule: list who and what is allowed, and put exceptions in a DENY policy)"}
}

test_operations_with_one_narrowing_field_allowed if {
	every op in [
		{"methods": ["GET"], "paths": ["*"]}, {"paths": ["/api/*"]}, {"hosts": ["payments.example.com"]},
		{"ports": ["8080"]}, {"paths": ["/*/health"]}, {"methods": ["*"], "paths": ["/public/*"], "notPaths": ["/public/admin"]},
	] {
		clean_rule({"to": [{"operation": op}]})
	}
	clean_rule({"from": [caller], "to": [{"operation": {"paths": ["*"], "methods": ["*"]}}]})
	clean_rule({"to": [{"operation": {"paths": ["*"]}}], "when": [{"key": "request.auth.claims[iss]", "values": ["https://issuer.example.com"]}]})
}

test_principal_patterns_covering_many_namespaces_denied if {
	every p in ["cluster.local*", "*cluster.local", "*.local", "*/sa/frontend", "*frontend", "cluster.local/ns/web*", "cluster.local/ns/*/sa/x*", "*/ns/web/sa/*"] {
		allow_all_fields({"from": [{"source": {"principals": [p]}}]}) == {"spec.rules[0].from[0].source.principals"}
	}
}

test_principal_patterns_pinning_a_namespace_allowed if {
	every p in [
		"cluster.local/ns/web/sa/frontend", "cluster.local/ns/web/sa/*", "cluster.local/ns/web/*",
		"*/ns/web/sa/frontend", "*.local/ns/web/sa/frontend", "*ns/web/sa/frontend",
	] {
		clean_rule({"from": [{"source": {"principals": [p]}}]})
	}
}

test_sources_with_only_exclusions_allow_everything if {
	every src in [
		{"notPrincipals": ["cluster.local/ns/evil/sa/x"]}, {"notNamespaces": ["evil"]}, {"notIpBlocks": ["203.0.113.0/24"]},
		{"notRequestPrincipals": ["https://issuer.example.com/bad"]}, {"notRemoteIpBlocks": ["203.0.113.0/24"]},
		{"notNamespaces": ["evil"], "principals": []},
	] {
		allow_all_fields({"from": [{"source": src}]}) == {"spec.rules[0]"}
	}
	allow_all_fields({"from": [caller, {"source": {"notNamespaces": ["evil"]}}]}) == {"spec.rules[0]"}
}

test_exclusion_only_source_message if {
	inp := create(authorization_policy({"rules": [{"from": [{"source": {"notNamespaces": ["evil"], "notPrincipals": ["x/ns/y/sa/z"]}}]}]}))
	messages(inp, "authorization-policy-no-allow-all") == {"AuthorizationPolicy spec.rules[0] matches every request, so this ALLOW policy allows everything: add from.source (principals or namespaces), to.operation or when conditions to it, or remove it (an ALLOW policy without rules allows nothing) (spec.rules[0].from[0].source only excludes callers (notNamespaces, notPrincipals); wildcards and not* fields do not narrow a rule: list who and what is allowed, and put exceptions in a DENY policy)"}
}

test_exclusions_beside_a_positive_field_or_operation_allowed if {
	clean_rule({"from": [{"source": {"namespaces": ["web"], "notPrincipals": ["cluster.local/ns/web/sa/legacy"]}}]})
	clean_rule({"from": [{"source": {"notNamespaces": ["evil"]}}], "to": [{"operation": {"paths": ["/api/*"]}}]})
	clean_rule({"from": [{"source": {"ipBlocks": ["10.0.0.0/8"], "notIpBlocks": ["10.1.0.0/16"]}}]})
}

# A request principal, even "*", needs a valid JWT from an accepted issuer: it narrows the callers.
test_request_principals_wildcard_alone_allowed if {
	clean_rule({"from": [{"source": {"requestPrincipals": ["*"]}}]})
	clean_rule({"from": [{"source": {"requestPrincipals": ["*"], "notRequestPrincipals": ["https://issuer.example.com/bad"]}}]})
}

test_whole_address_space_ip_blocks_denied if {
	every src in [
		{"ipBlocks": ["0.0.0.0/0"]}, {"ipBlocks": ["::/0"]}, {"ipBlocks": ["10.0.0.0/8", "0.0.0.0/0"]},
		{"ipBlocks": ["10.0.0.0/00"]}, {"ipBlocks": ["*"]},
	] {
		allow_all_fields({"from": [{"source": src}]}) == {"spec.rules[0].from[0].source.ipBlocks"}
	}
	allow_all_fields({"from": [{"source": {"remoteIpBlocks": ["::/0"]}}]}) == {"spec.rules[0].from[0].source.remoteIpBlocks"}
	inp := create(authorization_policy({"rules": [{"from": [{"source": {"ipBlocks": ["0.0.0.0/0"]}}]}]}))
	messages(inp, "authorization-policy-no-allow-all") == {"AuthorizationPolicy spec.rules[0].from[0].source.ipBlocks contains \"0.0.0.0/0\", which admits any caller: list the calling address ranges (a /0 range is every address)"}
}

test_narrow_ip_blocks_allowed if {
	every blocks in [["10.0.0.0/8"], ["10.0.0.0/10"], ["192.168.0.0/16", "fd00::/100"], ["203.0.113.7"]] {
		clean_rule({"from": [{"source": {"ipBlocks": blocks}}]})
		clean_rule({"from": [{"source": {"remoteIpBlocks": blocks}}]})
	}
}

test_wildcard_identity_conditions_allow_everything if {
	every when in [
		[{"key": "source.principal", "values": ["*"]}],
		[{"key": "source.principal", "values": ["cluster.local/*"]}],
		[{"key": "source.namespace", "values": ["web", "*"]}],
		[{"key": "source.namespace", "notValues": ["evil"]}],
		[{"key": "source.ip", "values": ["0.0.0.0/0"]}],
		[{"key": "remote.ip", "values": ["::/0"]}],
		[{"key": "source.principal", "values": ["*"]}, {"key": "source.namespace", "values": ["*"]}],
	] {
		allow_all_fields({"when": when}) == {"spec.rules[0]"}
	}
	inp := create(authorization_policy({"rules": [{"when": [{"key": "source.principal", "values": ["*"]}]}]}))
	messages(inp, "authorization-policy-no-allow-all") == {"AuthorizationPolicy spec.rules[0] matches every request, so this ALLOW policy allows everything: add from.source (principals or namespaces), to.operation or when conditions to it, or remove it (an ALLOW policy without rules allows nothing) (spec.rules[0].when[0] (source.principal) only matches wildcards or exclusions; wildcards and not* fields do not narrow a rule: list who and what is allowed, and put exceptions in a DENY policy)"}
}

test_narrowing_conditions_allowed if {
	every when in [
		[{"key": "source.namespace", "values": ["web"]}],
		[{"key": "source.principal", "values": ["cluster.local/ns/web/sa/*"]}],
		[{"key": "source.ip", "values": ["10.0.0.0/8"]}],
		[{"key": "request.auth.principal", "values": ["*"]}],
		[{"key": "request.headers[x-tenant]", "values": ["*"]}],
		[{"key": "source.principal", "values": ["*"]}, {"key": "request.auth.claims[iss]", "values": ["https://issuer.example.com"]}],
	] {
		clean_rule({"when": when})
	}
	clean_rule({"from": [caller], "when": [{"key": "source.namespace", "values": ["*"]}]})
}

test_wildcard_caller_beside_wildcard_operation_reported_once if {
	allow_all_fields({"from": [{"source": {"principals": ["*"]}}], "to": [{"operation": {"paths": ["*"]}}]}) == {"spec.rules[0].from[0].source.principals"}
	allow_all_fields({"from": [{"source": {"principals": ["*"]}}, {"source": {"notNamespaces": ["x"]}}]}) == {"spec.rules[0].from[0].source.principals", "spec.rules[0]"}
}

test_new_allow_all_shapes_allowed_in_deny_policies if {
	every rule in [
		{"to": [{"operation": {"paths": ["*"]}}]}, {"from": [{"source": {"notNamespaces": ["x"]}}]},
		{"from": [{"source": {"ipBlocks": ["0.0.0.0/0"]}}]}, {"when": [{"key": "source.principal", "values": ["*"]}]},
	] {
		clean(create(authorization_policy({"action": "DENY", "rules": [rule]})))
	}
}
