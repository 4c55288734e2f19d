# Operator data is checked where a mistake would open the mesh, on every decision, and any such
# mistake denies: a misspelt action, scope or mTLS mode, a deny rule with an unknown key or no values
# would otherwise silently switch protection off. Mistakes that can only close (an allow rule whose
# key is unknown never matches; an unknown trustLevel trusts no one) are not paid for per request;
# policy_errors lists every mistake, for `opa eval` before shipping data and for load-time checks.
#
# Checks take whole objects (`not valid_action(rule)`, never `not rule.action in ...`): a negated
# expression over a missing field is undefined in Rego, which would hide exactly the mistakes sought.
package portcullis.authz

import rego.v1

policy_errors := ((global_errors | all_rule_errors) | trust_errors) | {e |
	some p in policies
	p.scope == "service"
	some e in service_scope_errors(p)
}

request_policy_errors := (global_errors | request_rule_errors) | {e |
	some pol in service_policies
	some problem in service_policy_problems(pol)
	e := concat("", ["service ", policy_label(pol), ": ", problem])
}

all_rule_errors contains rule_error(p, j, rule, problem) if {
	some p in global_policies
	some j, rule in rules_of(p)
	some problem in rule_problems(rule)
}

# Per decision, only a rule that fails the quick test below has its problems spelt out.
request_rule_errors contains rule_error(p, j, rule, problem) if {
	some p in global_policies
	some j, rule in rules_of(p)
	not sound_for_request(rule)
	some problem in request_rule_problems(rule)
}

sound_for_request(rule) if {
	rule.action == "allow"
	conditions_of(rule)
}

sound_for_request(rule) if {
	rule.action == "deny"
	every c in conditions_of(rule) {
		valid_key(c)
		valid_values(c)
	}
}

rule_error(p, j, rule, problem) := concat("", ["policy ", name_or(p, "unnamed"), ": rule ", name_or(rule, format_int(j, 10)), ": ", problem])

global_errors contains "data.portcullis.security.securityPolicies is not a list" if {
	has_key(data.portcullis.security, "securityPolicies")
	not is_array(policies)
}

global_errors contains concat("", ["policy ", name_or(p, "unnamed"), ": scope must be global or service"]) if {
	some p in policies
	not valid_scope(p)
}

global_errors contains concat("", ["policy ", name_or(p, "unnamed"), ": ", problem]) if {
	some p in global_policies
	some check in ["defaultAction", "mutualTLS", "rules"]
	problem := global_problem(check, p)
}

valid_scope(p) if p.scope in {"global", "service"}

global_problem("defaultAction", p) := "authorization.defaultAction must be allow or deny" if {
	has_key(p.authorization, "defaultAction")
	not valid_default_action(p)
}

global_problem("mutualTLS", p) := "authentication.mutualTLS must be strict, permissive or disable" if {
	has_key(p.authentication, "mutualTLS")
	not valid_mtls_mode(p)
}

global_problem("rules", p) := "authorization.rules must be a list" if {
	has_key(p.authorization, "rules")
	p.authorization.rules != null
	not has_rule_list(p)
}

valid_default_action(p) if p.authorization.defaultAction in {"allow", "deny"}

valid_mtls_mode(p) if lower(p.authentication.mutualTLS) in {"strict", "permissive", "disable"}

rule_problems(rule) := structure_problems(rule) | condition_problems(rule)

request_rule_problems(rule) := structure_problems(rule) | condition_problems(rule) if rule.action == "deny"

else := structure_problems(rule)

structure_problems(rule) := {problem |
	some check in ["action", "conditions"]
	problem := rule_problem(check, rule)
}

condition_problems(rule) := {problem |
	some c in conditions_of(rule)
	problem := condition_problem(c)
}

rule_problem("action", rule) := "action must be allow or deny" if not valid_action(rule)

rule_problem("conditions", rule) := "conditions must be a list" if not conditions_of(rule)

valid_action(rule) if rule.action in {"allow", "deny"}

condition_problem(c) := concat("", ["unknown condition key ", key_text(c)]) if not valid_key(c)

condition_problem(c) := concat("", ["condition ", key_text(c), " needs a non-empty list of values"]) if {
	valid_key(c)
	not valid_values(c)
}

valid_key(c) if known_key(c.key)

valid_values(c) if {
	is_array(c.values)
	count(c.values) > 0
}

key_text(c) := json.marshal(c.key) if has_key(c, "key")

key_text(c) := "(none)" if not has_key(c, "key")

service_scope_errors(p) := {concat("", ["policy ", name_or(p, "unnamed"), ": services must be a list"])} if not service_list(p)

service_scope_errors(p) := {e |
	some s in p.services
	some e in service_errors(s)
} if service_list(p)

service_list(p) if is_array(p.services)

service_errors(s) := {concat("", ["service ", name_or(s, "unnamed"), ": policies must be a list"])} if not policy_list(s)

service_errors(s) := {e |
	some pol in s.policies
	some problem in service_policy_problems(pol)
	e := concat("", ["service ", name_or(s, "unnamed"), " (policy ", name_or(pol, "unnamed"), "): ", problem])
} if policy_list(s)

policy_list(s) if is_array(s.policies)

service_policy_problems(pol) := {problem |
	some check in ["jwtValidation", "tokenExpiry", "requestsPerMinute", "burstLimit", "burstAlone", "allowedRegions", "blockedRegions"]
	problem := service_problem(check, pol)
}

service_problem("jwtValidation", pol) := "jwtValidation must be true or false" if {
	has_key(pol, "jwtValidation")
	not boolean_field(pol, "jwtValidation")
}

service_problem("tokenExpiry", pol) := concat("", ["tokenExpiry ", json.marshal(pol.tokenExpiry), " is not a duration like 1h or 30m"]) if {
	has_key(pol, "tokenExpiry")
	not duration_field(pol, "tokenExpiry")
}

service_problem(field, pol) := concat("", [field, " must be a positive whole number"]) if {
	field in ["requestsPerMinute", "burstLimit"]
	has_key(pol, field)
	not positive_integer(pol[field])
}

service_problem("burstAlone", pol) := "burstLimit needs requestsPerMinute" if {
	has_key(pol, "burstLimit")
	not has_key(pol, "requestsPerMinute")
}

service_problem(field, pol) := concat("", [field, " must be a list of region names"]) if {
	field in ["allowedRegions", "blockedRegions"]
	has_key(pol, field)
	not string_list(pol[field])
}

boolean_field(obj, field) if is_boolean(obj[field])

duration_field(obj, field) if duration_seconds(obj[field])

trust_errors contains concat("", ["trust between ", json.marshal(object.get(t, "cluster1", null)), " and ", json.marshal(object.get(t, "cluster2", null)), ": trustLevel must be full or limited"]) if {
	some t in trust.trust
	not valid_trust_level(t)
}

valid_trust_level(t) if t.trustLevel in {"full", "limited"}

# Present even when its value is false or null.
has_key(obj, key) if _ := obj[key]

positive_integer(x) if {
	is_number(x)
	x > 0
	x == floor(x)
}

string_list(x) if {
	is_array(x)
	every v in x {
		is_string(v)
	}
}
