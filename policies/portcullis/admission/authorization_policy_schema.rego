# Rule 6, shape: Istio drops fields it does not know, so a misplaced condition does not narrow the
# policy, it silently vanishes (a rule of only `key`/`values` becomes `{}`, which allows all).
package portcullis.admission

import rego.v1

policy_actions := {"ALLOW", "DENY", "AUDIT", "CUSTOM"}

violation contains {
	"rule": "authorization-policy-valid-rules",
	"msg": concat("", [
		"AuthorizationPolicy spec.action ", quote(policy_action), " is not one of ALLOW, DENY, AUDIT, CUSTOM: fix spec.action",
	]),
	"details": {"field": "spec.action"},
} if {
	authorization_policy
	spec_changed
	not policy_action in policy_actions
}

violation contains {
	"rule": "authorization-policy-valid-rules",
	"msg": "AuthorizationPolicy spec.rules must be a list of rules, each with from, to and/or when",
	"details": {"field": "spec.rules"},
} if {
	authorization_policy
	spec_changed
	not is_array(policy_rules)
}

violation contains {
	"rule": "authorization-policy-valid-rules",
	"msg": concat("", [
		"AuthorizationPolicy ", field, " uses unknown ", fields_phrase(unknown), ": a rule holds only from, to and when,",
		" and conditions such as key/values belong under when, e.g. ", field, ": {when: [{key: ",
		condition_key(rule), ", values: [...]}]}",
	]),
	"details": {"field": field, "unknownFields": sort([k | some k in unknown])},
} if {
	authorization_policy
	spec_changed
	some i, rule in policy_rules
	is_object(rule)
	unknown := unknown_fields(rule, rule_fields)
	count(unknown) > 0
	field := concat("", ["spec.rules[", format_int(i, 10), "]"])
}

violation contains {
	"rule": "authorization-policy-valid-rules",
	"msg": concat("", ["AuthorizationPolicy ", field, " is not an object: a rule is {from: [...], to: [...], when: [...]}"]),
	"details": {"field": field},
} if {
	authorization_policy
	spec_changed
	some i, rule in policy_rules
	not is_object(rule)
	field := concat("", ["spec.rules[", format_int(i, 10), "]"])
}

# Entries of from, to and when, with the only fields Istio reads there and how to fix a stray one.
rule_parts := {
	"from": [source_fields, "caller fields belong under source, e.g. from: [{source: {principals: [...]}}]"],
	"to": [operation_fields, "request fields belong under operation, e.g. to: [{operation: {methods: [...], paths: [...]}}]"],
	"when": [condition_fields, "a condition is {key: ..., values: [...]} or {key: ..., notValues: [...]}"],
}

violation contains {
	"rule": "authorization-policy-valid-rules",
	"msg": concat("", ["AuthorizationPolicy ", field, " uses unknown ", fields_phrase(unknown), ": ", hint]),
	"details": {"field": field, "unknownFields": sort([k | some k in unknown])},
} if {
	authorization_policy
	spec_changed
	some i, rule in policy_rules
	some part, [known, hint] in rule_parts
	some j, entry in rule[part]
	unknown := unknown_fields(entry, known)
	count(unknown) > 0
	field := concat("", ["spec.rules[", format_int(i, 10), "].", part, "[", format_int(j, 10), "]"])
}

fields_phrase(unknown) := concat("", ["field ", concat("/", sort([k | some k in unknown]))]) if count(unknown) == 1

fields_phrase(unknown) := concat("", ["fields ", concat("/", sort([k | some k in unknown]))]) if count(unknown) > 1

condition_key(rule) := rule.key if is_string(rule.key)

else := "<attribute>"
