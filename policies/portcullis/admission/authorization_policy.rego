# Rule 6: an AuthorizationPolicy must say who may call what. An ALLOW rule that matches everything,
# or a wildcard caller, turns the policy into "allow all" for the workloads it selects.
package portcullis.admission

import rego.v1

authorization_policy if group_kind == "security.istio.io/AuthorizationPolicy"

policy_action := object.get(spec, "action", "ALLOW")

policy_rules := object.get(spec, "rules", [])

# The only fields Istio reads in a rule and in its from, to and when entries; anything else it drops.
rule_fields := {"from", "to", "when"}

source_fields := {"source"}

operation_fields := {"operation"}

condition_fields := {"key", "values", "notValues"}

unknown_fields(obj, known) := {k | some k, _ in obj; not k in known}

# A malformed rule is reported by authorization-policy-valid-rules alone, with the fix for its shape.
rule_ok(rule) if {
	is_object(rule)
	not malformed_rule(rule)
}

malformed_rule(rule) if count(unknown_fields(rule, rule_fields)) > 0

malformed_rule(rule) if {
	some part, [known, _] in rule_parts
	some entry in rule[part]
	count(unknown_fields(entry, known)) > 0
}

# A rule constrains requests when any of its parts carries a non-empty field; `{}`, `from: []` and
# `from: [{source: {}}]` all match every request.
constrained(rule) if {
	some f in rule.from
	some value in f.source
	count(value) > 0
}

constrained(rule) if {
	some t in rule.to
	some value in t.operation
	count(value) > 0
}

constrained(rule) if count(rule.when) > 0

violation contains {
	"rule": "authorization-policy-no-allow-all",
	"msg": concat("", [
		"AuthorizationPolicy spec.rules[", format_int(i, 10), "] matches every request, so this ALLOW policy allows everything:",
		" add from.source (principals or namespaces), to.operation or when conditions to it, or remove it",
		" (an ALLOW policy without rules allows nothing)",
	]),
	"details": {"field": concat("", ["spec.rules[", format_int(i, 10), "]"])},
} if {
	authorization_policy
	spec_changed
	policy_action == "ALLOW"
	some i, rule in policy_rules
	rule_ok(rule)
	not constrained(rule)
}

wildcard_sources := {
	"principals": "list the calling identities, e.g. cluster.local/ns/<namespace>/sa/<service-account>",
	"namespaces": "list the calling namespaces by name",
}

wildcard_principal("*")

wildcard_principal(p) if endswith(p, "/ns/*")

wildcard_principal(p) if {
	parts := split(p, "/")
	count(parts) == 2
	parts[1] == "*"
}

wildcard_value("principals", value) if wildcard_principal(value)

wildcard_value("namespaces", "*")

violation contains {
	"rule": "authorization-policy-no-allow-all",
	"msg": concat("", [
		"AuthorizationPolicy ", field, " contains ", quote(value), ", which admits any caller: ",
		wildcard_sources[name],
	]),
	"details": {"field": field, "value": value},
} if {
	authorization_policy
	spec_changed
	policy_action == "ALLOW"
	some i, rule in policy_rules
	some j, f in rule.from
	some name, _ in wildcard_sources
	some value in f.source[name]
	wildcard_value(name, value)
	field := concat("", ["spec.rules[", format_int(i, 10), "].from[", format_int(j, 10), "].source.", name])
}
