package portcullis.admission_test

import rego.v1

import data.portcullis.admission

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
		{"paths": ["*"]}, {"paths": ["/*"]}, {"methods": ["*"]}, {"hosts": ["*"]},
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

# Istio turns each namespace value into the regex .*/ns/<value, * as .*>/.* on spiffe://<td>/ns/<N>/sa/<S>:
# a value whose .* can run over "/sa" matches every caller.
test_namespace_patterns_istio_reads_as_every_caller if {
	every ns in ["*", "**", "*a", "*sa", "*/sa", "*a*", "*s*", "**sa", "*/*"] {
		allow_all_fields({"from": [{"source": {"namespaces": [ns]}}]}) == {"spec.rules[0].from[0].source.namespaces"}
		allow_all_fields({"when": [{"key": "source.namespace", "values": [ns]}]}) == {"spec.rules[0]"}
	}
	every ns in ["web", "web-*", "*-prod", "*b", "*sa/x", "a*", "*ns"] {
		clean_rule({"from": [{"source": {"namespaces": [ns]}}]})
		clean_rule({"when": [{"key": "source.namespace", "values": [ns]}]})
	}
}

test_ip_ranges_covering_everything_together_denied if {
	every blocks in [
		["0.0.0.0/1", "128.0.0.0/1"], ["::/1", "8000::/1"], ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1", "10.0.0.0/8"],
		["128.0.0.0/1", "64.0.0.0/2", "32.0.0.0/3", "0.0.0.0/3"], ["0::/1", "8000::/2", "c000::/2"],
	] {
		allow_all_fields({"from": [{"source": {"ipBlocks": blocks}}]}) == {"spec.rules[0].from[0].source.ipBlocks"}
		allow_all_fields({"from": [{"source": {"remoteIpBlocks": blocks}}]}) == {"spec.rules[0].from[0].source.remoteIpBlocks"}
		allow_all_fields({"when": [{"key": "source.ip", "values": blocks}]}) == {"spec.rules[0]"}
		allow_all_fields({"when": [{"key": "remote.ip", "values": blocks}]}) == {"spec.rules[0]"}
		allow_all_fields({"to": [{"operation": {"methods": ["*"]}}], "when": [{"key": "destination.ip", "values": blocks}]}) == {"spec.rules[0]"}
	}
	inp := create(authorization_policy({"rules": [{"from": [{"source": {"ipBlocks": ["0.0.0.0/1", "128.0.0.0/1"]}}]}]}))
	messages(inp, "authorization-policy-no-allow-all") == {"AuthorizationPolicy spec.rules[0].from[0].source.ipBlocks ranges together cover every address (0.0.0.0/1, 128.0.0.0/1), which admits any caller: list the calling address ranges (a /0 range is every address)"}
}

test_ip_ranges_across_sources_denied if {
	rule := {"from": [{"source": {"ipBlocks": ["0.0.0.0/1"]}}, {"source": {"ipBlocks": ["128.0.0.0/1"]}}]}
	inp := create(authorization_policy({"rules": [rule]}))
	only(inp, "authorization-policy-no-allow-all")
	messages(inp, "authorization-policy-no-allow-all") == {"AuthorizationPolicy spec.rules[0] matches every request, so this ALLOW policy allows everything: add from.source (principals or namespaces), to.operation or when conditions to it, or remove it (an ALLOW policy without rules allows nothing) (the ipBlocks of spec.rules[0].from[0], spec.rules[0].from[1] together cover every address; wildcards and not* fields do not narrow a rule: list who and what is allowed, and put exceptions in a DENY policy)"}
	clean_rule({"from": [{"source": {"ipBlocks": ["0.0.0.0/1"]}}, {"source": {"ipBlocks": ["128.0.0.0/1"], "principals": ["cluster.local/ns/web/sa/x"]}}]})
	clean_rule({"from": [{"source": {"ipBlocks": ["0.0.0.0/1"]}}, {"source": {"remoteIpBlocks": ["128.0.0.0/1"]}}]})
}

test_ip_ranges_leaving_a_gap_allowed if {
	every blocks in [
		["0.0.0.0/1", "128.0.0.0/2"], ["0.0.0.0/1", "::/1"], ["10.0.0.0/8", "0.0.0.0/1"], ["128.0.0.0/1", "64.0.0.0/2", "32.0.0.0/3"],
		["0.0.0.0/1", "128.0.0.0/1/2"], ["0.0.0.0/1", "300.0.0.0/1"], ["fe80::1%eth0/0"],
	] {
		clean_rule({"from": [{"source": {"ipBlocks": blocks}}]})
		clean_rule({"when": [{"key": "source.ip", "values": blocks}]})
	}
}

test_ports_methods_hosts_and_paths_as_istio_matches_them if {
	every op in [
		{"methods": ["G*", "P*", "D*", "H*", "O*", "T*", "C*"]}, {"methods": ["*T", "*E", "*D", "*S", "*H"]},
		{"methods": ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]},
		{"paths": ["/{**}"]}, {"paths": ["/{*}/{**}"]}, {"paths": ["/api", "/{**}"]},
	] {
		allow_all_fields({"to": [{"operation": op}]}) == {"spec.rules[0]"}
	}
	every op in [
		{"methods": ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE"]}, {"methods": ["get"]},
		{"paths": ["/{*}"]}, {"paths": ["/api/{**}"]}, {"paths": ["{**}"]}, {"paths": ["/**"]}, {"paths": ["*/"]},
		{"hosts": ["*.example.com"]}, {"ports": ["*"]},
	] {
		clean_rule({"to": [{"operation": op}]})
	}
}

# Only a list of all 65535 ports covers every port; the counting, on a few values.
test_ports_are_counted_as_istio_reads_them if {
	admission.port_numbers(["1", "080", "80", "65535", "0", "65536", "x", "+1", "1e3", ""]) == {1, 80, 65535}
	not admission.operation_field_open("ports", ["1", "2"])
	not admission.condition_values_open("destination.port", [format_int(p, 10) | some p in numbers.range(1, 65534)])
}

test_conditions_without_values_or_on_every_request_allow_everything if {
	every when in [
		[{"key": "request.auth.claims[groups]"}], [{"key": "request.headers[x-tenant]", "values": []}],
		[{"key": "request.auth.claims[groups]", "notValues": ["guest"]}], [{"key": "request.headers[:authority]", "values": ["*"]}],
		[{"key": "request.headers[Host]", "values": ["*"]}], [{"key": "request.headers[x-request-id]", "values": ["*"]}],
		[{"key": "source.trustDomain", "values": ["cluster.local"]}], [{"key": "connection.sni", "values": ["*"]}],
	] {
		allow_all_fields({"when": when}) == {"spec.rules[0]"}
	}
	every when in [
		[{"key": "source.serviceAccount", "values": ["web/frontend"]}], [{"key": "request.auth.audiences", "values": ["*"]}],
		[{"key": "connection.sni", "values": ["*.example.com"]}], [{"key": "destination.port", "values": ["8080"]}],
		[{"key": "destination.ip", "values": ["10.0.0.0/8"]}], [{"key": "request.headers[x-tenant]", "values": ["*"]}],
	] {
		clean_rule({"when": when})
	}
}

test_trust_domains_name_no_caller_and_service_accounts_do if {
	allow_all_fields({"from": [{"source": {"trustDomains": ["cluster.local"]}}]}) == {"spec.rules[0]"}
	allow_all_fields({"from": [{"source": {"trustDomains": ["*"], "notServiceAccounts": ["web/legacy"]}}]}) == {"spec.rules[0]"}
	clean_rule({"from": [{"source": {"trustDomains": ["cluster.local"], "namespaces": ["web"]}}]})
	clean_rule({"from": [{"source": {"serviceAccounts": ["web/frontend", "backend"]}}]})
}

test_proto_spellings_and_action_numbers_judged_alike if {
	allow_all_fields({"from": [{"source": {"ip_blocks": ["0.0.0.0/0"]}}]}) == {"spec.rules[0].from[0].source.ipBlocks"}
	allow_all_fields({"from": [{"source": {"not_namespaces": ["x"]}}]}) == {"spec.rules[0]"}
	only(create(authorization_policy({"action": 0, "rules": [{}]})), "authorization-policy-no-allow-all")
	clean(create(authorization_policy({"action": 1, "rules": [{}]})))
	clean_rule({"from": [{"source": {"request_principals": ["*"]}}]})
}
