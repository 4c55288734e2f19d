package portcullis.authz_test

import rego.v1

import data.portcullis.authz

# Default allow plus one allow-everything rule: only a policy error can deny.
invalid_because(rule) := decide(request, security("allow", [{"name": "ok", "action": "allow"}, rule])).reason

test_shipped_data_is_valid if {
	count(authz.policy_errors) == 0
}

test_unknown_action_denies_everything if {
	invalid_because({"name": "r", "action": "Deny"}) == "invalid security policy: policy g: rule r: action must be allow or deny"
	invalid_because({"name": "r"}) == "invalid security policy: policy g: rule r: action must be allow or deny"
}

test_unknown_condition_key_denies_everything if {
	invalid_because({"name": "r", "action": "deny", "conditions": [cond("source.namspace", ["x"])]}) == `invalid security policy: policy g: rule r: unknown condition key "source.namspace"`
	invalid_because({"name": "r", "action": "deny", "conditions": [cond("source.labels[]", ["x"])]}) == `invalid security policy: policy g: rule r: unknown condition key "source.labels[]"`
	invalid_because({"name": "r", "action": "deny", "conditions": [{"values": ["x"]}]}) == "invalid security policy: policy g: rule r: unknown condition key (none)"
}

test_condition_without_values_denies_everything if {
	invalid_because({"name": "r", "action": "deny", "conditions": [{"key": "request.path"}]}) == `invalid security policy: policy g: rule r: condition "request.path" needs a non-empty list of values`
	invalid_because({"name": "r", "action": "deny", "conditions": [cond("request.path", [])]}) == `invalid security policy: policy g: rule r: condition "request.path" needs a non-empty list of values`
	invalid_because({"name": "r", "action": "deny", "conditions": [cond("request.path", "/admin")]}) == `invalid security policy: policy g: rule r: condition "request.path" needs a non-empty list of values`
}

test_conditions_not_a_list if {
	invalid_because({"name": "r", "action": "deny", "conditions": {"key": "request.path"}}) == "invalid security policy: policy g: rule r: conditions must be a list"
	invalid_because({"action": "deny", "conditions": false}) == "invalid security policy: policy g: rule 1: conditions must be a list"
}

test_global_policy_errors if {
	bad_default := {"securityPolicies": [global_policy("alow", [])]}
	decide(request, bad_default).reason == "invalid security policy: policy g: authorization.defaultAction must be allow or deny"
	bad_mtls := {"securityPolicies": [object.union(global_policy("allow", []), {"authentication": {"mutualTLS": "stict"}})]}
	decide(request, bad_mtls).reason == "invalid security policy: policy g: authentication.mutualTLS must be strict, permissive or disable"
	bad_rules := {"securityPolicies": [{"name": "g", "scope": "global", "authorization": {"rules": {"a": 1}}}]}
	decide(request, bad_rules).reason == "invalid security policy: policy g: authorization.rules must be a list"
	bad_scope := {"securityPolicies": [global_policy("allow", []), {"name": "x", "scope": "cluster"}]}
	decide(request, bad_scope).reason == "invalid security policy: policy x: scope must be global or service"
	no_scope := {"securityPolicies": [global_policy("allow", []), {"name": "x"}]}
	decide(request, no_scope).reason == "invalid security policy: policy x: scope must be global or service"
	not_a_list := {"securityPolicies": {"name": "g"}}
	decide(request, not_a_list).reason == "invalid security policy: data.portcullis.security.securityPolicies is not a list"
}

test_null_rules_mean_none if {
	sec := {"securityPolicies": [{"name": "g", "scope": "global", "authorization": {"defaultAction": "allow", "rules": null}}]}
	decide(request, sec).reason == "default action allow"
}

orders_reason(pol) := decide(request, orders_policies([pol])).reason

test_destination_service_policy_errors if {
	orders_reason({"name": "p", "jwtValidation": "yes"}) == "invalid security policy: service orders (policy p): jwtValidation must be true or false"
	orders_reason({"name": "p", "tokenExpiry": "one hour"}) == `invalid security policy: service orders (policy p): tokenExpiry "one hour" is not a duration like 1h or 30m`
	orders_reason({"name": "p", "requestsPerMinute": "1000"}) == "invalid security policy: service orders (policy p): requestsPerMinute must be a positive whole number"
	orders_reason({"name": "p", "requestsPerMinute": 0}) == "invalid security policy: service orders (policy p): requestsPerMinute must be a positive whole number"
	orders_reason({"name": "p", "requestsPerMinute": 10, "burstLimit": 1.5}) == "invalid security policy: service orders (policy p): burstLimit must be a positive whole number"
	orders_reason({"name": "p", "burstLimit": 10}) == "invalid security policy: service orders (policy p): burstLimit needs requestsPerMinute"
	orders_reason({"name": "p", "allowedRegions": "us-west"}) == "invalid security policy: service orders (policy p): allowedRegions must be a list of region names"
	orders_reason({"name": "p", "blockedRegions": [1]}) == "invalid security policy: service orders (policy p): blockedRegions must be a list of region names"
}

test_other_services_errors_do_not_cost_this_request if {
	sec := {"securityPolicies": [
		global_policy("allow", []),
		{"name": "svc", "scope": "service", "services": [{"name": "billing", "policies": [{"name": "p", "tokenExpiry": "soon"}]}]},
	]}
	decide(request, sec).allowed
	authz.policy_errors == {`service billing (policy p): tokenExpiry "soon" is not a duration like 1h or 30m`} with data.portcullis.security as sec
}

test_policy_errors_lists_every_mistake if {
	sec := {"securityPolicies": [
		global_policy("maybe", [{"name": "r", "action": "deny", "conditions": [cond("nope", ["x"])]}]),
		{"name": "svc", "scope": "service", "services": [{"name": "a", "policies": {}}, {"name": "b", "policies": [{"name": "p", "jwtValidation": 1}]}]},
		{"name": "svc2", "scope": "service", "services": "all"},
	]}
	errors := authz.policy_errors with data.portcullis.security as sec with data.portcullis.trust as {"trust": [
		{"cluster1": "x", "cluster2": "y", "trustLevel": "partial"},
		{"cluster1": "x", "cluster2": "z", "trustLevel": "full"},
	]}
	errors == {
		"policy g: authorization.defaultAction must be allow or deny",
		`policy g: rule r: unknown condition key "nope"`,
		"service a: policies must be a list",
		"service b (policy p): jwtValidation must be true or false",
		"policy svc2: services must be a list",
		`trust between "x" and "y": trustLevel must be full or limited`,
	}
}

test_bad_trust_level_trusts_no_one if {
	trust := {
		"clusters": [{"name": "production-us-west", "trustDomain": "cluster.local"}, {"name": "b", "trustDomain": "b.test"}],
		"trust": [{"cluster1": "production-us-west", "cluster2": "b", "trustLevel": "Full"}],
	}
	from_b := with_mesh({"source": {"principal": "spiffe://b.test/ns/shop/sa/web", "trust_domain": "b.test"}})
	d := authz.decision with input as from_b
		with data.portcullis.security as security("allow", [])
		with data.portcullis.trust as trust
	d.reason == "trust domain b.test is not trusted by cluster production-us-west"
	own := authz.decision with input as request
		with data.portcullis.security as security("allow", [])
		with data.portcullis.trust as trust
	own.allowed
	errors := authz.policy_errors with data.portcullis.trust as trust
	errors == {`trust between "production-us-west" and "b": trustLevel must be full or limited`}
}

test_allow_rule_mistakes_fail_closed_without_costing_each_request if {
	sec := security("deny", [{"name": "typo", "action": "allow", "conditions": [cond("source.namspace", ["shop"])]}])
	decide(request, sec).reason == "default action deny"
	errors := authz.policy_errors with data.portcullis.security as sec
	errors == {`policy g: rule typo: unknown condition key "source.namspace"`}
	empty := security("deny", [{"name": "empty", "action": "allow", "conditions": [cond("source.namespace", [])]}])
	decide(request, empty).reason == "default action deny"
}
