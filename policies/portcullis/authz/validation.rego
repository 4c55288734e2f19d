# Operator data is checked on every decision and any mistake denies: a misspelt action or key would
# otherwise silently drop a deny rule and open the mesh. policy_errors lists every mistake in the
# data (for `opa eval` before shipping a bundle); a decision only pays for the global policies, the
# trust pairs and the destination service's entries.
package portcullis.authz

import rego.v1

policy_errors := (global_errors | trust_errors) | {e |
	some p in policies
	p.scope == "service"
	some s in services_of(p)
	some e in service_errors(s)
}

request_policy_errors := (global_errors | trust_errors) | {e |
	some sp in service_policies
	some problem in service_policy_problems(sp.policy)
	e := concat("", ["service ", policy_label(sp), ": ", problem])
}

global_errors contains "data.portcullis.security.securityPolicies is not a list" if {
	data.portcullis.security.securityPolicies
	not is_array(policies)
}

global_errors contains concat("", ["policy ", name_or(p, "unnamed"), ": scope must be global or service"]) if {
	some p in policies
	not p.scope in {"global", "service"}
}

global_errors contains concat("", ["policy ", name_or(p, "unnamed"), ": ", problem]) if {
	some p in global_policies
	some check in ["defaultAction", "mutualTLS", "rules"]
	problem := global_problem(check, p)
}

global_errors contains concat("", ["policy ", name_or(p, "unnamed"), ": rule ", name_or(rule, format_int(j, 10)), ": ", problem]) if {
	some p in global_policies
	some j, rule in rules_of(p)
	some problem in rule_problems(rule)
}

global_problem("defaultAction", p) := "authorization.defaultAction must be allow or deny" if {
	has_key(p.authorization, "defaultAction")
	not p.authorization.defaultAction in {"allow", "deny"}
}

global_problem("mutualTLS", p) := "authentication.mutualTLS must be strict, permissive or disable" if {
	has_key(p.authentication, "mutualTLS")
	not lower_or_empty(p.authentication.mutualTLS) in {"strict", "permissive", "disable"}
}

global_problem("rules", p) := "authorization.rules must be a list" if {
	has_key(p.authorization, "rules")
	not is_array(p.authorization.rules)
	p.authorization.rules != null
}

rule_problems(rule) := {problem |
	some check in ["action", "conditions"]
	problem := rule_problem(check, rule)
} | {problem |
	some c in conditions_of(rule)
	problem := condition_problem(c)
}

rule_problem("action", rule) := "action must be allow or deny" if not rule.action in {"allow", "deny"}

rule_problem("conditions", rule) := "conditions must be a list" if not conditions_of(rule)

condition_problem(c) := concat("", ["unknown condition key ", json.marshal(c.key)]) if not known_key(c.key)

condition_problem(c) := concat("", ["condition ", json.marshal(c.key), " needs a non-empty list of values"]) if {
	known_key(c.key)
	not nonempty_list(c.values)
}

service_errors(s) := {concat("", ["service ", name_or(s, "unnamed"), ": policies must be a list"])} if not is_array(s.policies)

service_errors(s) := {e |
	some pol in s.policies
	some problem in service_policy_problems(pol)
	e := concat("", ["service ", name_or(s, "unnamed"), " (policy ", name_or(pol, "unnamed"), "): ", problem])
} if is_array(s.policies)

services_of(p) := p.services if is_array(p.services)

services_of(p) := [] if not is_array(p.services)

service_policy_problems(pol) := {problem |
	some check in ["jwtValidation", "tokenExpiry", "requestsPerMinute", "burstLimit", "burstAlone", "allowedRegions", "blockedRegions"]
	problem := service_problem(check, pol)
}

service_problem("jwtValidation", pol) := "jwtValidation must be true or false" if {
	has_key(pol, "jwtValidation")
	not is_boolean(pol.jwtValidation)
}

service_problem("tokenExpiry", pol) := concat("", ["tokenExpiry ", json.marshal(pol.tokenExpiry), " is not a duration like 1h or 30m"]) if {
	has_key(pol, "tokenExpiry")
	not duration_seconds(pol.tokenExpiry)
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

trust_errors contains concat("", ["trust between ", json.marshal(t.cluster1), " and ", json.marshal(t.cluster2), ": trustLevel must be full or limited"]) if {
	some t in trust.trust
	not t.trustLevel in {"full", "limited"}
}

# Present even when its value is false or null.
has_key(obj, key) if _ := obj[key]

lower_or_empty(s) := lower(s) if is_string(s)

lower_or_empty(s) := "" if not is_string(s)

nonempty_list(x) if {
	is_array(x)
	count(x) > 0
}

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
