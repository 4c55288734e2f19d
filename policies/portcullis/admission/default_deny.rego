# Rule 6, baseline: every mesh namespace keeps a namespace-wide deny-all AuthorizationPolicy under a
# reserved name, so a workload without its own ALLOW policy is closed, not open. Creating it is
# the platform's job; this rule stops anyone from deleting it or turning it into something else.
# It also stops anyone from giving it an owner: the garbage collector is one of the identities that
# may delete it (so a namespace can be emptied), and it deletes whatever an owner leaves behind, so
# an ownerReferences entry pointing at a ConfigMap of one's own would be a deletion by proxy.
package portcullis.admission

import rego.v1

default_deny_target if {
	authorization_policy
	mesh_namespace
	object_name == default_deny_policy_name
}

workload_scoped(policy_spec) if count(istio_get(istio_get(policy_spec, "selector", {}), "matchLabels", {})) > 0

workload_scoped(policy_spec) if istio_get(policy_spec, "targetRef", null) != null

workload_scoped(policy_spec) if count(istio_get(policy_spec, "targetRefs", [])) > 0

# Istio's two deny-all spellings: an ALLOW policy with no rules, or a DENY rule that matches all.
deny_all(policy_spec) if {
	not workload_scoped(policy_spec)
	istio_enum("spec.action", istio_get(policy_spec, "action", "ALLOW")) == "ALLOW"
	count(istio_get(policy_spec, "rules", [])) == 0
}

deny_all(policy_spec) if {
	not workload_scoped(policy_spec)
	istio_enum("spec.action", istio_get(policy_spec, "action", "ALLOW")) == "DENY"
	some rule in entries(policy_spec, "rules")
	is_object(rule)
	not malformed_rule(rule)
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
	not default_deny_deleter
}

default_deny_deleter if request_user in default_deny_deleters

# A malformed value that is not a list still counts as an entry, so it cannot slip through.
owner_references(obj) := refs if {
	refs := obj.metadata.ownerReferences
	is_array(refs)
} else := [refs] if {
	refs := obj.metadata.ownerReferences
	refs != null
} else := []

owner_description(ref) := concat("", [ref.kind, " ", quote(ref.name)]) if {
	is_string(ref.kind)
	is_string(ref.name)
} else := "an object"

# Entries added or changed by a CREATE or UPDATE; removing one only takes an owner away.
violation contains {
	"rule": "authorization-policy-default-deny",
	"msg": concat("", [
		"AuthorizationPolicy ", quote(default_deny_policy_name), " is the default-deny policy of mesh namespace ",
		quote(request_namespace), " and cannot be given an owner: ", field, " (", owner_description(ref), ")",
		" would let the garbage collector delete it when that object is deleted; remove the entry",
		" (the policy belongs to the platform and goes only with the namespace)",
	]),
	"details": {"field": field, "name": default_deny_policy_name, "namespace": request_namespace},
} if {
	operation in {"CREATE", "UPDATE"}
	default_deny_target
	not default_deny_deleter
	old_refs := owner_references(old_object)
	some i, ref in owner_references(new_object)
	not ref in old_refs
	field := concat("", ["metadata.ownerReferences[", format_int(i, 10), "]"])
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
