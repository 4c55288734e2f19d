# What the checks read: the Pod spec and metadata of a Pod or a workload's pod template, and every
# container the way the plugin's policy/visitor.go visits them (init containers, containers, ephemeral
# containers; native sidecars are init containers). Field paths are relative to the object the author
# edits (spec.template.spec.containers[0] in a Deployment).
package portcullis.podsecurity

import rego.v1

import data.portcullis.admission

spec := admission.pod_spec

metadata := m if {
	m := admission.pod_template.metadata
	is_object(m)
} else := {}

annotations := a if {
	a := metadata.annotations
	is_object(a)
} else := {}

prefix := admission.template_prefix

kind_name := admission.kind_name

spec_field := concat("", [prefix, "spec"])

metadata_field := concat("", [prefix, "metadata"])

annotation_field(key) := concat("", [metadata_field, ".annotations[", show(key), "]"])

container_lists := ["initContainers", "containers", "ephemeralContainers"]

# [c, field] of every container.
containers := [[c, concat("", [spec_field, ".", list, "[", format_int(i, 10), "]"])] |
	some list in container_lists
	cs := object.get(spec, list, [])
	is_array(cs)
	some i, c in cs
	is_object(c)
]

# [field, value] of what lies at path (one to four keys) under obj, whose own field is field. A missing or
# null step reads as null. A step that should hold an object but holds anything else is returned itself,
# with its field: the check judges that value and, as it is never an allowed one, refuses it instead of
# reading it as absent.
read(obj, [a], field) := step([field, obj], a)

read(obj, [a, b], field) := step(step([field, obj], a), b)

read(obj, [a, b, c], field) := step(step(step([field, obj], a), b), c)

read(obj, [a, b, c, d], field) := step(step(step(step([field, obj], a), b), c), d)

step([field, value], key) := [concat(".", [field, key]), object.get(value, key, null)] if is_object(value)

step([field, null], key) := [concat(".", [field, key]), null]

step([field, value], _) := [field, value] if {
	value != null
	not is_object(value)
}

# A value as messages show it: strings quoted, everything else as JSON.
show(v) := concat("", ["\"", v, "\""]) if is_string(v)

show(v) := json.marshal(v) if not is_string(v)

container_name(c) := show(object.get(c, "name", null))

subject(c) := concat(" ", ["container", container_name(c)])

# Findings: the field at fault, the message that names it, and for a container its name.
finding(field, msg) := {"field": field, "msg": msg}

container_finding(c, field, msg) := {"field": field, "msg": msg, "container": object.get(c, "name", null)}

# "<who> sets <field> to <value>: <fix>"
sets(who, field, value, fix) := concat("", [who, " sets ", field, " to ", show(value), ": ", fix])

windows_pod if object.get(spec, ["os", "name"], null) == "windows"

# The user-namespace relaxations of 1.35 apply only to an explicit boolean false.
user_namespace_pod if object.get(spec, "hostUsers", null) == false

# [field, entry] of each entry of a list; nothing for anything else (see not_a_list).
list_entries(field, list) := [[concat("", [field, "[", format_int(i, 10), "]"]), x] | some i, x in list] if is_array(list)

list_entries(_, list) := [] if not is_array(list)

# A list field holding something else, which the checks refuse as a whole.
not_a_list(value) if {
	value != null
	not is_array(value)
}

# "<who> must set <field> to <expected>" when absent, else "<who> sets <field> to <value>: set it to <expected>".
must_be(who, field, null, expected) := concat("", [who, " must set ", field, " to ", show(expected)])

must_be(who, field, value, expected) := sets(who, field, value, concat(" ", ["set it to", show(expected)])) if value != null

# [object, field, who, container] of the Pod (container null) and of every container: what holds a
# securityContext.
security_context_holders := array.concat(
	[[spec, spec_field, kind_name, null]],
	[[c, base, subject(c), c] | some [c, base] in containers],
)

holder_finding(null, field, msg) := finding(field, msg)

holder_finding(c, field, msg) := container_finding(c, field, msg) if c != null
