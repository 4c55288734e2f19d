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
# `from: [{source: {}}]` all match every request. The default-deny rule reads this for its DENY-all.
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

# Istio semantics: a rule matches when its from, to and when all match; entries of from (and of to)
# are alternatives; the fields of one source (or operation) must all match; when conditions must all
# match; a value list matches when any value does. So a rule matches every request when
#   (no from, or some source matches every caller) and (no to, or some operation matches every
#   request) and (every when condition matches every request).
# not* fields only carve exceptions out of "everyone", so a source or an operation holding nothing
# else counts as matching every request. Wildcard callers (principals, namespaces, ipBlocks,
# remoteIpBlocks) are reported value by value below, so a source holding one is not reported again
# here. requestPrincipals, even "*", asks for a valid JWT: a source holding it is narrowed.
entries(rule, part) := [e | some e in object.get(rule, part, [])]

source_positive_fields := ["principals", "requestPrincipals", "namespaces", "ipBlocks", "remoteIpBlocks"]

operation_positive_fields := ["hosts", "ports", "methods", "paths"]

non_empty_fields(obj) := sort([k | some k, v in obj; count(v) > 0])

# The source of from[j] narrows the callers, or is reported as a wildcard caller.
source_narrows(src) if {
	some name in source_positive_fields
	count(src[name]) > 0
}

open_sources(rule) := [j |
	some j, f in entries(rule, "from")
	not source_narrows(object.get(f, "source", {}))
]

# Values that match anything in an operation field: "*" everywhere, "/*" for paths (every HTTP path
# starts with "/").
operation_wildcard(_, "*")

operation_wildcard("paths", "/*")

operation_field_narrows(op, name) if {
	count(op[name]) > 0
	not any_operation_wildcard(op, name)
}

any_operation_wildcard(op, name) if {
	some value in op[name]
	operation_wildcard(name, value)
}

operation_narrows(op) if {
	some name in operation_positive_fields
	operation_field_narrows(op, name)
}

open_operations(rule) := [j |
	some j, t in entries(rule, "to")
	not operation_narrows(object.get(t, "operation", {}))
]

# Only conditions on the caller's identity can be wildcards that admit everyone; a condition on a
# JWT claim or a header still asks something of the request.
identity_condition_keys := {"source.principal", "source.namespace", "source.ip", "remote.ip"}

condition_wildcard("source.principal", value) if wildcard_principal(value)

condition_wildcard("source.namespace", "*")

condition_wildcard(key, value) if {
	key in {"source.ip", "remote.ip"}
	wildcard_ip_block(value)
}

condition_narrows(c) if not c.key in identity_condition_keys

condition_narrows(c) if {
	count(c.values) > 0
	not any_condition_wildcard(c)
}

any_condition_wildcard(c) if {
	some value in c.values
	condition_wildcard(c.key, value)
}

matches_everything(rule) if {
	from := entries(rule, "from")
	any_or_none(from, open_sources(rule))
	any_or_none(entries(rule, "to"), open_operations(rule))
	every c in entries(rule, "when") {
		not condition_narrows(c)
	}
}

# A part without entries matches everything; one with entries when some entry does.
any_or_none(all, _) if count(all) == 0

any_or_none(_, open) if count(open) > 0

# Why a rule that has fields still matches everything, field by field, for the message.
open_reasons(i, rule) := array.concat(
	array.concat(
		[concat("", [
			rule_field(i, "from", j), ".source only excludes callers (", concat(", ", fields), ")",
		]) |
			some j in open_sources(rule)
			fields := non_empty_fields(object.get(rule.from[j], "source", {}))
			count(fields) > 0
		],
		[concat("", [
			rule_field(i, "to", j), ".operation has only wildcards or exclusions (", concat(", ", fields), ")",
		]) |
			some j in open_operations(rule)
			fields := non_empty_fields(object.get(rule.to[j], "operation", {}))
			count(fields) > 0
		],
	),
	[concat("", [rule_field(i, "when", j), " (", c.key, ") only matches wildcards or exclusions"]) |
		some j, c in entries(rule, "when")
	],
)

rule_field(i, part, j) := concat("", ["spec.rules[", format_int(i, 10), "].", part, "[", format_int(j, 10), "]"])

open_reasons_phrase(reasons) := "" if count(reasons) == 0

open_reasons_phrase(reasons) := concat("", [
	" (", concat("; ", reasons), "; wildcards and not* fields do not narrow a rule: list who and what is allowed,",
	" and put exceptions in a DENY policy)",
]) if count(reasons) > 0

violation contains {
	"rule": "authorization-policy-no-allow-all",
	"msg": concat("", [
		"AuthorizationPolicy spec.rules[", format_int(i, 10), "] matches every request, so this ALLOW policy allows everything:",
		" add from.source (principals or namespaces), to.operation or when conditions to it, or remove it",
		" (an ALLOW policy without rules allows nothing)", open_reasons_phrase(reasons),
	]),
	"details": {"field": concat("", ["spec.rules[", format_int(i, 10), "]"])},
} if {
	authorization_policy
	spec_changed
	policy_action == "ALLOW"
	some i, rule in policy_rules
	rule_ok(rule)
	matches_everything(rule)
	reasons := open_reasons(i, rule)
}

wildcard_sources := {
	"principals": "list the calling identities, e.g. cluster.local/ns/<namespace>/sa/<service-account>",
	"namespaces": "list the calling namespaces by name",
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

# Any /0 range (0.0.0.0/0, ::/0) covers every address of its family.
wildcard_ip_block("*")

wildcard_ip_block(block) if regex.match(`/0+$`, trim_space(block))

wildcard_value("principals", value) if wildcard_principal(value)

wildcard_value("namespaces", "*")

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
