# Rule 6, baseline: every mesh namespace keeps a namespace-wide deny-all AuthorizationPolicy under a
# reserved name, so a workload without its own ALLOW policy is closed, not open. Creating it is
# the platform's job; this rule stops anyone from deleting it or turning it into something else.
package portcullis.admission

import rego.v1

default_deny_target if {
	authorization_policy
	mesh_namespace
	object_name == default_deny_policy_name
}

workload_scoped(policy_spec) if count(object.get(policy_spec, ["selector", "matchLabels"], {})) > 0

workload_scoped(policy_spec) if policy_spec.targetRef

workload_scoped(policy_spec) if count(policy_spec.targetRefs) > 0

# Istio's two deny-all spellings: an ALLOW policy with no rules, or a DENY rule that matches all.
deny_all(policy_spec) if {
	not workload_scoped(policy_spec)
	object.get(policy_spec, "action", "ALLOW") == "ALLOW"
	count(object.get(policy_spec, "rules", [])) == 0
}

deny_all(policy_spec) if {
	not workload_scoped(policy_spec)
	policy_spec.action == "DENY"
	some rule in policy_spec.rules
	rule_ok(rule)
	not constrained(rule)
}

violation contains {
	"rule": "authorization-policy-default-deny",
	"msg": concat("", [
		"AuthorizationPolicy ", quote(default_deny_policy_name), " is the default-deny policy of mesh namespace ",
		quote(request_namespace), " and cannot be deleted: add ALLOW policies for the traffic you need instead",
		" (it may only go once the namespace leaves the mesh)",
	]),
	"details": {"name": default_deny_policy_name, "namespace": request_namespace},
} if {
	operation == "DELETE"
	default_deny_target
	not object.get(input.request, ["userInfo", "username"], "") in default_deny_deleters
}

violation contains {
	"rule": "authorization-policy-default-deny",
	"msg": concat("", [
		"AuthorizationPolicy ", quote(default_deny_policy_name), " is the default-deny policy of mesh namespace ",
		quote(request_namespace), " and must deny everything: set spec to {} (no selector, no rules),",
		" and put exceptions in separate ALLOW policies",
	]),
	"details": {"name": default_deny_policy_name, "namespace": request_namespace},
} if {
	default_deny_target
	spec_changed
	not deny_all(spec)
}
