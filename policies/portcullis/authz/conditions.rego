# Rule conditions: `key` names a request fact, `values` lists what it may be. A condition matches when
# the fact is present and equals any value; a rule matches when all of its conditions match.
package portcullis.authz

import rego.v1

# attr(key) is undefined when the request lacks the fact, so a condition on it never matches.
attr(key) := keyed_facts[k[0]][k[1]] if {
	endswith(key, "]")
	k := keyed(key)
}

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

# "<map>[<name>]" keys address these maps, gathered once per decision: a complete rule is memoised
# by the WebAssembly evaluator, a partial one is rebuilt on every lookup.
keyed_facts := {
	"source.labels": object.get(input, ["mesh", "source", "labels"], {}),
	"source.namespace_labels": object.get(input, ["mesh", "source", "namespace_labels"], {}),
	"destination.labels": object.get(input, ["mesh", "destination", "labels"], {}),
	"request.headers": object.get(input, ["attributes", "request", "http", "headers"], {}),
	"jwt.claims": verified_claims,
}

# Claims of a token that failed verification are never looked at.
verified_claims := input.mesh.jwt.claims if {
	jwt_verified
} else := {}

plain_keys := {
	"source.namespace", "source.service_account", "source.principal", "source.trust_domain",
	"source.ip", "source.region", "source.country", "destination.namespace", "destination.service",
	"destination.service_account", "request.method", "request.path",
}

keyed_maps := {"source.labels", "source.namespace_labels", "destination.labels", "request.headers", "jwt.claims"}

known_key(key) if plain_keys[key]

known_key(key) if keyed_maps[keyed(key)[0]]

# "<map>[<name>]" → [map, name]. Envoy hands header names over lower-cased. Parsed with split and
# trim rather than index arithmetic, which costs far more in WebAssembly.
keyed(key) := [parts[0], fold_case(parts[0], name)] if {
	parts := split(key, "[")
	count(parts) == 2
	endswith(parts[1], "]")
	name := trim_suffix(parts[1], "]")
	name != ""
	parts[0] != ""
}

fold_case("request.headers", name) := lower(name)

fold_case(map, name) := name if map != "request.headers"

# A rule without conditions matches every request, as in Istio's AuthorizationPolicy: all of its
# zero conditions hold. That makes `{action: deny}` an explicit deny-all.
rule_matches(rule) if all_match(conditions_of(rule))

# Short rules are spelt out so that the first failing condition ends the test: a body stops at its
# first false expression, whereas `every` in WebAssembly visits every condition.
all_match([])

all_match([a]) if condition_matches(a)

all_match([a, b]) if {
	condition_matches(a)
	condition_matches(b)
}

all_match([a, b, c]) if {
	condition_matches(a)
	condition_matches(b)
	condition_matches(c)
}

all_match(conditions) if {
	count(conditions) > 3
	every c in conditions {
		condition_matches(c)
	}
}

# Undefined for anything but a list or nothing, so a malformed rule matches no request.
conditions_of(rule) := c if {
	c := rule.conditions
	is_array(c)
} else := [] if {
	not has_key(rule, "conditions")
} else := [] if {
	rule.conditions == null
}

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

value_matches(_, actual, pattern) if scalar_matches(actual, pattern)

# A multi-valued fact (a JWT `groups` claim, say) matches when any of its members does.
value_matches(_, actual, pattern) if {
	is_array(actual)
	some a in actual
	scalar_matches(a, pattern)
}

# Plain text equal to the fact: the common case, costing one comparison. A template or wildcard
# is only honoured as such, never by the fact spelling it out.
scalar_matches(actual, pattern) if {
	actual == pattern
	not special(pattern)
}

scalar_matches(actual, pattern) if {
	special(pattern)
	special_matches(as_string(actual), pattern)
}

# YAML may say `true` or "true", 3 or "3": compared as text.
scalar_matches(actual, pattern) if {
	is_string(actual) != is_string(pattern)
	as_string(actual) == as_string(pattern)
}

special(pattern) if contains(pattern, "{{")

special(pattern) if trim(pattern, "*") != pattern

as_string(x) := x if is_string(x)

as_string(x) := json.marshal(x) if is_number(x)

as_string(x) := json.marshal(x) if is_boolean(x)

# Wildcards are read from the policy text before templates are filled in, so a template value taken
# from the request (a header, say) can never turn into a wildcard: a trailing `*` is a prefix match,
# a leading `*` a suffix match, `*` alone matches any value that is present.
special_matches(s, pattern) if {
	not wildcard(pattern)
	s == render(pattern)
}

special_matches(s, pattern) if {
	endswith(pattern, "*")
	startswith(s, render(trim_suffix(pattern, "*")))
}

special_matches(s, pattern) if {
	startswith(pattern, "*")
	not endswith(pattern, "*")
	endswith(s, render(trim_prefix(pattern, "*")))
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
