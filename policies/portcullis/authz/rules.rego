# Global policies: ordered allow/deny rules and the default action.
package portcullis.authz

import rego.v1

policies := data.portcullis.security.securityPolicies

global_policies := [p | some p in policies; p.scope == "global"]

# [policy index, rule index, action] of every rule matching the request, in order; one pass over
# the rules per decision.
matches := [[i, j, rule.action] |
	some i, p in global_policies
	some j, rule in rules_of(p)
	rule_matches(rule)
]

# Deny wins: every deny rule is checked whatever its position; order only picks which matching rule
# is named in the reason.
deny_matches := [m | some m in matches; m[2] == "deny"]

allow_matches := [m |
	some m in matches
	m[2] == "allow"
	rule_admits_source(rules_of(global_policies[m[0]])[m[1]])
]

rules_of(p) := r if {
	r := p.authorization.rules
	is_array(r)
} else := []

has_rule_list(p) if is_array(p.authorization.rules)

rule_label(ij) := concat("/", [name_or(global_policies[ij[0]], "global policy"), name_or(rules_of(global_policies[ij[0]])[ij[1]], "unnamed rule")])

name_or(x, fallback) := n if {
	n := x.name
	is_string(n)
} else := fallback

# Any global policy asking for deny keeps the default at deny; no global policy at all is deny too.
default default_allow := false

default_allow if {
	count(global_policies) > 0
	every p in global_policies {
		p.authorization.defaultAction == "allow"
	}
}

# A source whose cluster is only trusted at the `limited` level gets nothing it is not explicitly
# granted: an allow rule counts for it only when one of its conditions names that trust domain
# literally, so shortcuts like allow-same-namespace (a template) never let it in.
rule_admits_source(_) if trust_level != "limited"

rule_admits_source(rule) if {
	trust_level == "limited"
	some c in conditions_of(rule)
	names_trust_domain(c)
}

names_trust_domain(c) if {
	c.key == "source.trust_domain"
	source_trust_domain in c.values
}

names_trust_domain(c) if {
	c.key == "source.principal"
	some v in c.values
	is_string(v)
	not contains(v, "{{")
	startswith(v, concat("", ["spiffe://", source_trust_domain, "/"]))
}
