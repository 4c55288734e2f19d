# An AuthorizationPolicy must say who may call what. An ALLOW rule that matches everything, or a wildcard
# caller, turns the policy into "allow all" for the workloads it selects. "Everything" is judged with
# Istio's own matching (pilot/pkg/security/authz/model and matcher), not with the text of the values:
#   - a rule matches when its from, to and when all match; entries of from (and of to) are alternatives;
#     the fields of one source (or operation) must all match; every when condition must match; a list
#     matches when any of its values does; not* fields and notValues only carve exceptions out;
#   - a field or condition with no values constrains nothing;
#   - principals and most strings: "*" is any value, "x*" a prefix, "*x" a suffix, anything else exact;
#   - namespaces (and source.namespace) become the regex .*/ns/<value, each * as .*>/.* on the caller's
#     SPIFFE ID, so "*sa" or "*a*" match every identity;
#   - paths: "*" and "/*" match every path, and so does a template made only of {*} and {**} ending in {**};
#   - ipBlocks, remoteIpBlocks, source.ip, remote.ip and destination.ip: the union of their ranges;
#   - ports and destination.port: only a list of every port; methods: "*" or patterns covering every
#     standard method; hosts and connection.sni: "*".
# The README table "what counts as everything" lists each field.
package portcullis.admission

import rego.v1

authorization_policy if group_kind == "security.istio.io/AuthorizationPolicy"

policy_action := istio_enum("spec.action", istio_get(spec, "action", "ALLOW"))

# The entries of a list field; anything that is not a list is refused by object-schema and read as empty.
entries(obj, name) := [e | l := istio_get(obj, name, []); is_array(l); some e in l]

# The string values of a list field (other values are object-schema's).
string_values(obj, name) := [v | some v in entries(obj, name); is_string(v)]

source_of(f) := s if {
	s := istio_get(f, "source", {})
	is_object(s)
} else := {}

operation_of(t) := o if {
	o := istio_get(t, "operation", {})
	is_object(o)
} else := {}

# A rule constrains requests when any of its parts carries a non-empty field; `{}`, `from: []` and
# `from: [{source: {}}]` all match every request. The default-deny rule reads this for its DENY-all.
constrained(rule) if {
	some f in entries(rule, "from")
	some _, value in source_of(f)
	count(value) > 0
}

constrained(rule) if {
	some t in entries(rule, "to")
	some _, value in operation_of(t)
	count(value) > 0
}

constrained(rule) if count(entries(rule, "when")) > 0

# A rule with fields Istio does not know is reported by object-schema alone, with the fix for its shape:
# moving a stray condition under `when` also stops it from matching everything.
rule_part_patterns := {"from": "spec.rules.[].from.[]", "to": "spec.rules.[].to.[]", "when": "spec.rules.[].when.[]"}

malformed_rule(rule) if {
	some key, _ in rule
	not istio_node("spec.rules.[]").f[key]
}

malformed_rule(rule) if {
	some part, pattern in rule_part_patterns
	some e in entries(rule, part)
	some key, _ in e
	not istio_node(pattern).f[key]
}

# Fields that pick callers; the others (not*, trustDomains) only exclude callers or name a whole trust
# domain. Wildcard callers among them are reported value by value below, so a source holding one is not
# reported again as matching everyone. requestPrincipals, even "*", asks for a valid JWT: it narrows.
source_positive_fields := ["principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks", "serviceAccounts"]

operation_positive_fields := ["hosts", "ports", "methods", "paths"]

non_empty_fields(obj) := sort([k | some k, v in obj; count(v) > 0])

source_narrows(src) if {
	some name in source_positive_fields
	count(entries(src, name)) > 0
}

open_sources(rule) := [j |
	some j, f in entries(rule, "from")
	not source_narrows(source_of(f))
]

# Sources whose only narrowing field is ipBlocks (or remoteIpBlocks) admit, together, the union of their
# ranges: two sources of 0.0.0.0/1 and 128.0.0.0/1 admit every caller.
ip_only_sources(rule, name) := [j |
	some j, f in entries(rule, "from")
	src := source_of(f)
	count(entries(src, name)) > 0
	count([other | some other in source_positive_fields; other != name; count(entries(src, other)) > 0]) == 0
]

from_ranges_cover_everything(rule, name) if ip_ranges_cover_everything([v |
	sources := entries(rule, "from")
	some j in ip_only_sources(rule, name)
	some v in string_values(source_of(sources[j]), name)
])

from_open(rule) if count(entries(rule, "from")) == 0

from_open(rule) if count(open_sources(rule)) > 0

from_open(rule) if {
	some name in ["ipBlocks", "remoteIpBlocks"]
	count(ip_only_sources(rule, name)) > 1
	from_ranges_cover_everything(rule, name)
}

# An operation field matches every request when one of its values, or all of them together, does.
operation_field_open("hosts", values) if "*" in values

operation_field_open("paths", values) if {
	some value in values
	path_matches_everything(value)
}

operation_field_open("methods", values) if every method in standard_methods {
	some value in values
	string_pattern_matches(value, method)
}

operation_field_open("ports", values) if ports_cover_everything(values)

# "*" is the regex .+ and "/*" the prefix "/": both match every path. A template whose every segment is
# {*} or {**} and whose last is {**} matches every path with as many segments as it has {*}.
path_matches_everything("*")

path_matches_everything("/*")

path_matches_everything(path) if {
	startswith(path, "/")
	segments := split(trim_prefix(path, "/"), "/")
	segments[count(segments) - 1] == "{**}"
	every segment in segments {
		segment in {"{*}", "{**}"}
	}
}

# Istio's string matching (matcher.StringMatcher, HeaderMatcher): "*" any value, "*x" a suffix, "x*" a
# prefix, otherwise the exact value.
string_pattern_matches("*", _)

string_pattern_matches(pattern, value) if {
	pattern != "*"
	startswith(pattern, "*")
	endswith(value, trim_prefix(pattern, "*"))
}

string_pattern_matches(pattern, value) if {
	not startswith(pattern, "*")
	endswith(pattern, "*")
	startswith(value, trim_suffix(pattern, "*"))
}

string_pattern_matches(pattern, pattern)

# HTTP's registered methods (RFC 9110 and RFC 5789): values that cover them all allow any method a
# workload serves.
standard_methods := ["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"]

# Istio reads a port as a decimal number up to 65535; only a list of every port covers them all.
ports_cover_everything(values) if {
	count(values) >= 65535
	count(port_numbers(values)) == 65535
}

port_numbers(values) := {n |
	some value in values
	regex.match(`^[0-9]{1,5}$`, value)
	n := to_number(value)
	n >= 1
	n <= 65535
}

operation_narrows(op) if {
	some name in operation_positive_fields
	values := string_values(op, name)
	count(entries(op, name)) > 0
	not operation_field_open(name, values)
}

open_operations(rule) := [j |
	some j, t in entries(rule, "to")
	not operation_narrows(operation_of(t))
]

to_open(rule) if count(entries(rule, "to")) == 0

to_open(rule) if count(open_operations(rule)) > 0

# A condition narrows unless it has no values (only notValues, or nothing at all) or its values match
# every request. Identity keys need values that pin callers; conditions on a JWT (request.auth.*), on
# metadata or on a header other than the ones every request carries still ask something of the request.
condition_open(c) if count(entries(c, "values")) == 0

condition_open(c) if {
	values := string_values(c, "values")
	count(values) > 0
	condition_values_open(istio_get(c, "key", ""), values)
}

condition_values_open("source.principal", values) if {
	some value in values
	wildcard_principal(value)
}

condition_values_open("source.namespace", values) if {
	some value in values
	wildcard_namespace(value)
}

# A trust domain holds every workload of the mesh (or of a peer mesh): it never picks callers.
condition_values_open("source.trustDomain", _)

condition_values_open(key, values) if {
	key in {"source.ip", "remote.ip", "destination.ip"}
	ip_ranges_cover_everything(values)
}

condition_values_open("destination.port", values) if ports_cover_everything(values)

condition_values_open("connection.sni", values) if "*" in values

# Headers Envoy has on every request by the time the RBAC filter runs: "*" (present) matches them all.
always_present_headers := {":authority", ":method", ":path", ":scheme", "host", "x-request-id", "x-forwarded-proto"}

condition_values_open(key, values) if {
	startswith(key, "request.headers[")
	endswith(key, "]")
	lower(trim_suffix(trim_prefix(key, "request.headers["), "]")) in always_present_headers
	"*" in values
}

when_open(rule) if every c in entries(rule, "when") {
	condition_open(c)
}

matches_everything(rule) if {
	from_open(rule)
	to_open(rule)
	when_open(rule)
}

# Why a rule that has fields still matches everything, field by field, for the message.
open_reasons(i, rule) := array.concat(
	array.concat(
		array.concat(
			[concat("", [
				rule_field(i, "from", j), ".source only excludes callers (", concat(", ", fields), ")",
			]) |
				some j in open_sources(rule)
				fields := non_empty_fields(source_of(entries(rule, "from")[j]))
				count(fields) > 0
			],
			[concat("", [
				"the ", name, " of ", concat(", ", [rule_field(i, "from", j) | some j in ip_only_sources(rule, name)]),
				" together cover every address",
			]) |
				count(open_sources(rule)) == 0
				some name in ["ipBlocks", "remoteIpBlocks"]
				count(ip_only_sources(rule, name)) > 1
				from_ranges_cover_everything(rule, name)
			],
		),
		[concat("", [
			rule_field(i, "to", j), ".operation has only wildcards or exclusions (", concat(", ", fields), ")",
		]) |
			some j in open_operations(rule)
			fields := non_empty_fields(operation_of(entries(rule, "to")[j]))
			count(fields) > 0
		],
	),
	[concat("", [rule_field(i, "when", j), " (", text(istio_get(c, "key", "")), ") only matches wildcards or exclusions"]) |
		some j, c in entries(rule, "when")
	],
)

rule_field(i, part, j) := concat("", ["spec.rules[", format_int(i, 10), "].", part, "[", format_int(j, 10), "]"])

open_reasons_phrase(reasons) := "" if count(reasons) == 0

open_reasons_phrase(reasons) := concat("", [
	" (", concat("; ", reasons), "; wildcards and not* fields do not narrow a rule: list who and what is allowed,",
	" and put exceptions in a DENY policy)",
]) if count(reasons) > 0

allow_policy if {
	authorization_policy
	spec_changed
	policy_action == "ALLOW"
}

violation contains {
	"rule": "authorization-policy-no-allow-all",
	"msg": concat("", [
		"AuthorizationPolicy spec.rules[", format_int(i, 10), "] matches every request, so this ALLOW policy allows everything:",
		" add from.source (principals or namespaces), to.operation or when conditions to it, or remove it",
		" (an ALLOW policy without rules allows nothing)", open_reasons_phrase(reasons),
	]),
	"details": {"field": concat("", ["spec.rules[", format_int(i, 10), "]"])},
} if {
	allow_policy
	some i, rule in entries(spec, "rules")
	is_object(rule)
	not malformed_rule(rule)
	matches_everything(rule)
	reasons := open_reasons(i, rule)
}

wildcard_sources := {
	"principals": "list the calling identities, e.g. cluster.local/ns/<namespace>/sa/<service-account>",
	"namespaces": "list the calling namespaces by name (Istio matches each * against any text, \"/\" included)",
	"ipBlocks": "list the calling address ranges (a /0 range is every address)",
	"remoteIpBlocks": "list the calling address ranges (a /0 range is every address)",
}

# A principal pattern admits any caller unless it pins a namespace: Istio reads "*" alone as any
# value, a trailing "*" as a prefix and a leading "*" as a suffix. A prefix must reach past
# "/ns/<namespace>/" (cluster.local/ns/web/sa/*); a suffix must hold "ns/<namespace>/sa/<account>"
# (*/ns/web/sa/frontend, any trust domain). "cluster.local/*", "cluster.local*", "*cluster.local",
# "cluster.local/ns/*", "cluster.local/ns/web*" and "*/sa/frontend" all cover many namespaces.
wildcard_principal("*")

wildcard_principal(p) if {
	endswith(p, "*")
	not startswith(p, "*")
	not regex.match(`/ns/[^/*]+/`, p)
}

wildcard_principal(p) if {
	startswith(p, "*")
	p != "*"
	not regex.match(`(^\*|/)ns/[^/*]+/sa/[^/*]+$`, p)
}

# A namespace value V becomes the regex .*/ns/V'/.* (every * of V as .*) on the caller's SPIFFE ID
# spiffe://<td>/ns/<N>/sa/<S>. V' has to match N, or N/sa (the .* can run over the "/"). It matches that for
# every N exactly when V starts with "*" and the rest matches "", "a", "sa" or "/sa": "*", "**", "*a",
# "*sa", "*/sa", "*a*" all admit every caller. "web-*" or "*-prod" pin part of the name and do not.
wildcard_namespace(v) if {
	startswith(v, "*")
	rest := trim_prefix(v, "*")
	regex.match(`^[*/sa]*$`, rest)
	some target in ["", "a", "sa", "/sa"]
	regex.match(concat("", ["^", replace(rest, "*", ".*"), "$"]), target)
}

# Any /0 range (0.0.0.0/0, ::/0) covers every address of its family. "*" is no address: Istio drops a
# rule holding it, but it is reported all the same, since it says "any caller".
wildcard_ip_block("*")

wildcard_ip_block(block) if {
	is_string(block)
	ip_prefix(block)[1] == 0
	ip_ranges_cover_everything([block])
}

wildcard_value("principals", value) if wildcard_principal(value)

wildcard_value("namespaces", value) if wildcard_namespace(value)

wildcard_value("ipBlocks", value) if wildcard_ip_block(value)

wildcard_value("remoteIpBlocks", value) if wildcard_ip_block(value)

violation contains {
	"rule": "authorization-policy-no-allow-all",
	"msg": concat("", [
		"AuthorizationPolicy ", field, " contains ", quote(value), ", which admits any caller: ",
		wildcard_sources[name],
	]),
	"details": {"field": field, "value": value},
} if {
	allow_policy
	some i, rule in entries(spec, "rules")
	some j, f in entries(rule, "from")
	some name, _ in wildcard_sources
	some value in string_values(source_of(f), name)
	wildcard_value(name, value)
	field := concat("", [rule_field(i, "from", j), ".source.", name])
}

# Ranges that only together cover every address.
violation contains {
	"rule": "authorization-policy-no-allow-all",
	"msg": concat("", [
		"AuthorizationPolicy ", field, " ranges together cover every address (", concat(", ", values),
		"), which admits any caller: ", wildcard_sources[name],
	]),
	"details": {"field": field},
} if {
	allow_policy
	some i, rule in entries(spec, "rules")
	some j, f in entries(rule, "from")
	some name in ["ipBlocks", "remoteIpBlocks"]
	values := string_values(source_of(f), name)
	not any_wildcard_ip_block(values)
	ip_ranges_cover_everything(values)
	field := concat("", [rule_field(i, "from", j), ".source.", name])
}

any_wildcard_ip_block(values) if {
	some value in values
	wildcard_ip_block(value)
}
