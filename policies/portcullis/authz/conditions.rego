# Rule conditions: `key` names a request fact, `values` lists what it may be. A condition matches when
# the fact is present and equals any value; a rule matches when all of its conditions match.
package portcullis.authz

import rego.v1

# attr(key) is undefined when the request lacks the fact, so a condition on it never matches.
attr("source.namespace") := source_namespace

attr("source.service_account") := source_service_account

attr("source.principal") := source_principal

attr("source.trust_domain") := source_trust_domain

attr("source.ip") := source_ip

attr("source.region") := input.mesh.source.region

attr("source.country") := input.mesh.source.country

attr("destination.namespace") := destination_namespace

attr("destination.service") := destination_service

attr("destination.service_account") := destination_service_account

attr("request.method") := request_method

attr("request.path") := request_path

attr(key) := input.mesh.source.labels[bracketed(key, "source.labels[")]

attr(key) := input.mesh.source.namespace_labels[bracketed(key, "source.namespace_labels[")]

attr(key) := input.mesh.destination.labels[bracketed(key, "destination.labels[")]

# Envoy hands header names over lower-cased.
attr(key) := request_headers[lower(bracketed(key, "request.headers["))]

# Claims of a token that failed verification are never looked at.
attr(key) := input.mesh.jwt.claims[bracketed(key, "jwt.claims[")] if input.mesh.jwt.verified == true

plain_keys := {
	"source.namespace", "source.service_account", "source.principal", "source.trust_domain",
	"source.ip", "source.region", "source.country", "destination.namespace", "destination.service",
	"destination.service_account", "request.method", "request.path",
}

bracket_prefixes := [
	"source.labels[", "source.namespace_labels[", "destination.labels[",
	"request.headers[", "jwt.claims[",
]

known_key(key) if plain_keys[key]

known_key(key) if {
	some prefix in bracket_prefixes
	bracketed(key, prefix)
}

# The <name> of "<prefix><name>]".
bracketed(key, prefix) := name if {
	startswith(key, prefix)
	endswith(key, "]")
	name := substring(key, count(prefix), (count(key) - count(prefix)) - 1)
	name != ""
}

# A rule without conditions matches every request, as in Istio's AuthorizationPolicy: all of its
# zero conditions hold. That makes `{action: deny}` an explicit deny-all.
rule_matches(rule) if {
	every c in conditions_of(rule) {
		condition_matches(c)
	}
}

conditions_of(rule) := rule.conditions if is_array(rule.conditions)

conditions_of(rule) := [] if not has_key(rule, "conditions")

conditions_of(rule) := [] if rule.conditions == null

condition_matches(c) if {
	actual := attr(c.key)
	some v in c.values
	value_matches(c.key, actual, v)
}

value_matches("source.ip", ip, cidr) if {
	is_string(cidr)
	contains(cidr, "/")
	net.cidr_contains(cidr, ip)
}

value_matches(_, actual, pattern) if pattern_matches(as_string(actual), as_string(pattern))

# A multi-valued fact (a JWT `groups` claim, say) matches when any of its members does.
value_matches(_, actual, pattern) if {
	is_array(actual)
	some a in actual
	pattern_matches(as_string(a), as_string(pattern))
}

as_string(x) := x if is_string(x)

as_string(x) := json.marshal(x) if is_number(x)

as_string(x) := json.marshal(x) if is_boolean(x)

# Wildcards are read from the policy text before templates are filled in, so a template value taken
# from the request (a header, say) can never turn into a wildcard: a trailing `*` is a prefix match,
# a leading `*` a suffix match, `*` alone matches any value that is present.
pattern_matches(s, pattern) if {
	not wildcard(pattern)
	s == render(pattern)
}

pattern_matches(s, pattern) if {
	endswith(pattern, "*")
	startswith(s, render(substring(pattern, 0, count(pattern) - 1)))
}

pattern_matches(s, pattern) if {
	startswith(pattern, "*")
	not endswith(pattern, "*")
	endswith(s, render(substring(pattern, 1, -1)))
}

wildcard(pattern) if startswith(pattern, "*")

wildcard(pattern) if endswith(pattern, "*")

# Fills `{{ key }}` templates with the request's facts; undefined when one of them is missing, so the
# condition cannot match on a half-filled value.
render(text) := text if not contains(text, "{{")

render(text) := out if {
	contains(text, "{{")
	parts := split(text, "{{")
	filled := [piece |
		some i, part in parts
		i > 0
		piece := fill(part)
	]
	count(filled) == count(parts) - 1
	out := concat("", array.concat([parts[0]], filled))
}

# "<key> }}<rest>" → "<value of key><rest>".
fill(part) := concat("", [as_string(attr(trim_space(halves[0]))), halves[1]]) if {
	halves := split(part, "}}")
	count(halves) == 2
}
