package portcullis.authz_test

import rego.v1

allow_rule(name, conditions) := {"name": name, "action": "allow", "conditions": conditions}

deny_rule(name, conditions) := {"name": name, "action": "deny", "conditions": conditions}

test_default_deny if {
	d := decide(from_other_namespace, security("deny", [allow_rule("same-ns", [cond("source.namespace", ["{{ destination.namespace }}"])])]))
	d == {
		"allowed": false,
		"http_status": 403,
		"reason": "default action deny",
		"headers": {"content-type": "text/plain"},
		"body": "access denied",
	}
}

test_default_allow if {
	d := decide(from_other_namespace, security("allow", []))
	d == {"allowed": true, "reason": "default action allow"}
}

test_missing_default_action_is_deny if {
	sec := {"securityPolicies": [{"name": "g", "scope": "global", "authorization": {"rules": []}}]}
	decide(request, sec).reason == "default action deny"
}

test_no_security_policies_denies if {
	decide(request, {}).reason == "default action deny"
	decide(request, {"securityPolicies": []}).reason == "default action deny"
}

test_default_allow_needs_every_global_policy_to_allow if {
	sec := {"securityPolicies": [global_policy("allow", []), object.union(global_policy("deny", []), {"name": "strict"})]}
	decide(request, sec).reason == "default action deny"
}

test_allow_rule_reason_names_policy_and_rule if {
	d := decide(from_other_namespace, security("deny", [
		allow_rule("never", [cond("source.namespace", ["nobody"])]),
		allow_rule("frontend", [cond("source.namespace", ["frontend"])]),
		allow_rule("web", [cond("source.service_account", ["web"])]),
	]))
	d == {"allowed": true, "reason": "allow rule g/frontend"}
}

test_deny_rule_wins_over_earlier_allow if {
	d := decide(request, security("allow", [
		allow_rule("same-ns", [cond("source.namespace", ["{{ destination.namespace }}"])]),
		deny_rule("no-writes-to-admin", [cond("request.path", ["/api/*"])]),
	]))
	not d.allowed
	d.http_status == 403
	d.reason == "deny rule g/no-writes-to-admin"
}

test_deny_rule_that_does_not_match_leaves_allow if {
	d := decide(request, security("deny", [
		deny_rule("no-admin", [cond("request.path", ["/admin/*"])]),
		allow_rule("same-ns", [cond("source.namespace", ["{{ destination.namespace }}"])]),
	]))
	d.reason == "allow rule g/same-ns"
}

test_first_matching_deny_rule_is_named if {
	d := decide(request, security("allow", [
		deny_rule("first", [cond("request.method", ["GET"])]),
		deny_rule("second", [cond("source.namespace", ["shop"])]),
	]))
	d.reason == "deny rule g/first"
}

test_deny_rule_in_a_second_global_policy_wins if {
	sec := {"securityPolicies": [
		global_policy("deny", [allow_rule("everyone", [])]),
		{"name": "lockdown", "scope": "global", "authorization": {"rules": [deny_rule("maintenance", [])]}},
	]}
	decide(request, sec).reason == "deny rule lockdown/maintenance"
}

test_unnamed_rules_still_decide if {
	sec := {"securityPolicies": [{"scope": "global", "authorization": {"defaultAction": "allow", "rules": [{"action": "deny"}]}}]}
	decide(request, sec).reason == "deny rule global policy/unnamed rule"
}

test_seed_default_policy if {
	sec := data.portcullis.security
	decide(request, sec).reason == "allow rule zero-trust-default/allow-same-namespace"
	decide(from_other_namespace, sec).reason == "default action deny"
	prometheus := object.union(from_other_namespace, {"mesh": {"source": {"namespace": "monitoring", "labels": {"app": "prometheus"}}}})
	decide(prometheus, sec).reason == "allow rule zero-trust-default/allow-monitoring"
}
