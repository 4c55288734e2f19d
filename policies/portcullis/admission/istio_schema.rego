# object-schema for Istio kinds: a spec Istio cannot read the way it is written is refused, because what
# Istio does with it is not what the author (or any other rule here) sees. Istio ignores unknown fields
# (a condition written beside `when` instead of under it vanishes, widening an ALLOW rule), and a value of the
# wrong type makes Istio drop the whole object (a DENY policy then stops denying). Every node of the spec
# is checked against the schema of the kind's CRD in the pinned istio.io/api release (data.portcullis.istio):
# the JSON type, enum values (or their proto numbers), required fields, map keys, and that each field is
# known under its JSON or proto name and given only once. null is "not set", as Istio reads it, except as a
# list item or map value, where it has no meaning.
#
# Rego cannot recurse, so the spec is walked level by level: level k holds [path, pattern, value] for every
# node k fields deep, its pattern naming the schema node (spec.rules.[].from.[].source.principals.[]).
# data.portcullis.istio.depth is the deepest pattern; istio_levels covers it (a test holds the two together).
package portcullis.admission

import rego.v1

istio_schema_judged if {
	istio_kind
	spec_changed
}

istio_children(nodes) := [[array.concat(path, [key]), child, v] |
	some [path, pattern, value] in nodes
	entry := istio_node(pattern)
	container := istio_container(entry, type_name(value))
	some key, v in value
	child := istio_child_pattern(container, pattern, entry, key)
]

# The kind of container a node is, when its value is one: its children are fields, items or map values.
istio_container(entry, "object") := "fields" if {
	entry.t == "object"
	not entry.open
}

istio_container(entry, "array") := "items" if entry.t == "array"

istio_container(entry, "object") := "values" if entry.t == "map"

istio_child_pattern("fields", pattern, entry, key) := concat(".", [pattern, entry.f[key]])

istio_child_pattern("items", pattern, _, _) := concat(".", [pattern, "[]"])

istio_child_pattern("values", pattern, _, _) := concat(".", [pattern, "{}"])

istio_level_0 := [[[], "spec", spec]] if istio_schema_judged

istio_level_1 := istio_children(istio_level_0)

istio_level_2 := istio_children(istio_level_1)

istio_level_3 := istio_children(istio_level_2)

istio_level_4 := istio_children(istio_level_3)

istio_level_5 := istio_children(istio_level_4)

istio_level_6 := istio_children(istio_level_5)

istio_level_7 := istio_children(istio_level_6)

istio_level_8 := istio_children(istio_level_7)

istio_level_9 := istio_children(istio_level_8)

istio_level_10 := istio_children(istio_level_9)

istio_level_11 := istio_children(istio_level_10)

istio_levels := 11

istio_nodes := array.concat(
	array.concat(
		array.concat(istio_level_0, istio_level_1),
		array.concat(array.concat(istio_level_2, istio_level_3), array.concat(istio_level_4, istio_level_5)),
	),
	array.concat(
		array.concat(array.concat(istio_level_6, istio_level_7), array.concat(istio_level_8, istio_level_9)),
		array.concat(istio_level_10, istio_level_11),
	),
)

# The field as the author wrote it: spec.portLevelMtls["8080"].mode, spec.rules[0].from[1].
istio_field_name(path, pattern) := concat("", ["spec", concat("", [part |
	tokens := split(pattern, ".")
	some i, key in path
	part := istio_path_part(tokens[i + 1], key)
])])

istio_path_part("[]", i) := concat("", ["[", text(i), "]"])

istio_path_part("{}", key) := concat("", ["[", quote(key), "]"])

istio_path_part(token, key) := concat("", [".", key]) if not token in {"[]", "{}"}

# Items of lists and values of maps carry no "not set": null there is a value of the wrong type.
istio_item(pattern) if endswith(pattern, ".[]")

istio_item(pattern) if endswith(pattern, ".{}")

istio_type_ok(_, pattern, null) if not istio_item(pattern)

istio_type_ok(entry, _, v) if {
	entry.t in {"object", "map"}
	is_object(v)
}

istio_type_ok(entry, _, v) if {
	entry.t == "array"
	is_array(v)
}

istio_type_ok(entry, _, v) if {
	entry.t == "string"
	not entry.e
	is_string(v)
}

istio_type_ok(entry, _, v) if {
	entry.t == "boolean"
	is_boolean(v)
}

istio_type_ok(entry, _, v) if {
	entry.t == "number"
	is_number(v)
}

istio_type_ok(entry, _, v) if {
	entry.t == "integer"
	is_number(v)
	v == floor(v)
}

# An enum is one of its names, or the number of one of them.
istio_type_ok(entry, _, v) if {
	is_string(v)
	entry.e[v]
}

istio_type_ok(entry, _, v) if {
	is_number(v)
	some n in entry.e
	n == v
}

istio_expected(entry) := concat("", ["one of ", concat(", ", sort([name | some name, _ in entry.e])), " (or its number)"]) if entry.e

else := "a list" if entry.t == "array"

else := "an object" if entry.t in {"object", "map"}

else := "a whole number" if entry.t == "integer"

else := concat("", ["a ", entry.t])

violation contains {
	"rule": "object-schema",
	"msg": concat("", [
		kind_name, " ", field, " is ", istio_value_phrase(v), ", but Istio reads it as ", istio_expected(entry),
		": fix the value (Istio would ignore this ", kind_name, ", or read it differently from what it says)",
	]),
	"details": {"field": field, "expected": istio_expected(entry)},
} if {
	some [path, pattern, v] in istio_nodes
	entry := istio_node(pattern)
	not istio_type_ok(entry, pattern, v)
	field := istio_field_name(path, pattern)
}

istio_value_phrase(v) := quote(v) if is_string(v)

else := concat("", ["the number ", text(v)]) if is_number(v)

else := text(v)

# Unknown fields, per object: Istio drops them without a word.
violation contains {
	"rule": "object-schema",
	"msg": concat("", [
		kind_name, " ", field, " uses ", fields_phrase(unknown), ", which Istio ignores", istio_unknown_hint(pattern, entry, field, v),
	]),
	"details": {"field": field, "unknownFields": sort([k | some k in unknown])},
} if {
	some [path, pattern, v] in istio_nodes
	entry := istio_node(pattern)
	entry.t == "object"
	not entry.open
	is_object(v)
	unknown := {k | some k, _ in v; not entry.f[k]}
	count(unknown) > 0
	field := istio_field_name(path, pattern)
}

fields_phrase(unknown) := concat("", ["unknown field ", concat("/", sort([text(k) | some k in unknown]))]) if count(unknown) == 1

fields_phrase(unknown) := concat("", ["unknown fields ", concat("/", sort([text(k) | some k in unknown]))]) if count(unknown) > 1

# The fixes worth knowing where a misplaced field quietly widens an AuthorizationPolicy; elsewhere the
# fields Istio reads.
istio_unknown_hint("spec.rules.[]", _, field, v) := concat("", [
	": a rule holds only from, to and when, and conditions such as key/values belong under when, e.g. ", field,
	": {when: [{key: ", condition_key_example(v), ", values: [...]}]}",
]) if group_kind == "security.istio.io/AuthorizationPolicy"

istio_unknown_hint("spec.rules.[].from.[]", _, _, _) := ": caller fields belong under source, e.g. from: [{source: {principals: [...]}}]" if {
	group_kind == "security.istio.io/AuthorizationPolicy"
}

istio_unknown_hint("spec.rules.[].to.[]", _, _, _) := ": request fields belong under operation, e.g. to: [{operation: {methods: [...], paths: [...]}}]" if {
	group_kind == "security.istio.io/AuthorizationPolicy"
}

istio_unknown_hint("spec.rules.[].when.[]", _, _, _) := ": a condition is {key: ..., values: [...]} or {key: ..., notValues: [...]}" if {
	group_kind == "security.istio.io/AuthorizationPolicy"
}

istio_unknown_hint(pattern, entry, _, _) := concat("", [": the fields Istio reads here are ", concat(", ", istio_known_fields(entry))]) if {
	not istio_hinted(pattern)
	count(entry.f) > 0
}

istio_unknown_hint(pattern, entry, _, _) := ": Istio reads no field here" if {
	not istio_hinted(pattern)
	count(entry.f) == 0
}

istio_hinted(pattern) if {
	group_kind == "security.istio.io/AuthorizationPolicy"
	pattern in {"spec.rules.[]", "spec.rules.[].from.[]", "spec.rules.[].to.[]", "spec.rules.[].when.[]"}
}

condition_key_example(rule) := rule.key if is_string(rule.key)

else := "<attribute>"

istio_known_fields(entry) := sort({name | some _, name in entry.f})

# The same field under both its names: Istio reads only the JSON one, so the other says something Istio ignores.
violation contains {
	"rule": "object-schema",
	"msg": concat("", [
		kind_name, " ", field, " sets ", name, " twice (", concat(" and ", spellings),
		"), and Istio reads only one of them: keep ", name,
	]),
	"details": {"field": field, "duplicateFields": spellings},
} if {
	some [path, pattern, v] in istio_nodes
	is_object(v)
	entry := istio_node(pattern)
	entry.t == "object"
	names := [entry.f[k] | some k, _ in v]
	count(names) > count({n | some n in names})
	some name in {n | some n in names}
	spellings := sort([k | some k, _ in v; entry.f[k] == name])
	count(spellings) > 1
	field := istio_field_name(path, pattern)
}

violation contains {
	"rule": "object-schema",
	"msg": concat("", [kind_name, " ", field, " needs ", name, ", which Istio requires here: set it"]),
	"details": {"field": field, "missing": name},
} if {
	some [path, pattern, v] in istio_nodes
	entry := istio_node(pattern)
	some name in entry.r
	not istio_set(v, name)
	field := istio_field_name(path, pattern)
}

istio_set(obj, name) if istio_field(obj, name) != null

# Map keys Istio parses as numbers (the ports of portLevelMtls): anything but a plain decimal makes Istio
# drop the object.
violation contains {
	"rule": "object-schema",
	"msg": concat("", [
		kind_name, " ", field, " has key ", quote(key), ", which is not a number Istio can read as ", entry.k,
		": write it in plain decimal digits, e.g. \"8080\"",
	]),
	"details": {"field": field, "key": key},
} if {
	some [path, pattern, v] in istio_nodes
	entry := istio_node(pattern)
	entry.t == "map"
	entry.k != "string"
	is_object(v)
	some key, _ in v
	not istio_number_key(entry.k, key)
	field := istio_field_name(path, pattern)
}

istio_number_key(_, key) if {
	regex.match(`^(0|[1-9][0-9]{0,9})$`, key)
	to_number(key) <= 4294967295
}

# Every Istio kind a rule judges has a schema in data.portcullis.istio; without it (an operator bundle that
# left the file out) nothing could tell what Istio reads, so the object is refused.
istio_judged_kinds := {
	"security.istio.io/AuthorizationPolicy", "security.istio.io/PeerAuthentication",
	"security.istio.io/RequestAuthentication", "networking.istio.io/DestinationRule",
	"networking.istio.io/EnvoyFilter", "networking.istio.io/ProxyConfig", "extensions.istio.io/WasmPlugin",
	"extensions.istio.io/TrafficExtension",
}

violation contains {
	"rule": "object-schema",
	"msg": concat("", [
		kind_name, " cannot be checked: the policy data has no schema for ", group_kind,
		" (data.portcullis.istio, generated by scripts/istio-schema.mjs): restore it",
	]),
	"details": {"field": "spec"},
} if {
	group_kind in istio_judged_kinds
	spec_changed
	not istio_kind
}
