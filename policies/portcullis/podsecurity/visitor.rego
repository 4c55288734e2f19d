# What the checks read: the Pod spec and metadata of a Pod or a workload's pod template, and every
# container the way the plugin's policy/visitor.go visits them (init containers, containers, ephemeral
# containers; native sidecars are init containers). Field paths are relative to the object the author
# edits (spec.template.spec.containers[0] in a Deployment).
package portcullis.podsecurity

import rego.v1

import data.portcullis.admission

# A template whose spec is missing or not an object (object-schema refuses the latter) is still judged on
# its metadata: AppArmor and seccomp annotations do not need a spec to be read.
spec := s if {
	s := admission.pod_spec
} else := {} if {
	admission.pod_template
}

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

# Checks read fields with plain references, which are undefined where anything on the way is missing: cheap
# for the many reads that find nothing. What lies on the way but is neither an object nor null would read
# as absent too, so each check also reports such values, through malformed() and the lists below: a wrong
# type is refused, never taken for "not set".
malformed(x) if {
	x != null
	not is_object(x)
}

# [container, field, value] of every container's securityContext that is not an object.
malformed_container_security_contexts := [[c, concat(".", [base, "securityContext"]), c.securityContext] |
	some [c, base] in containers
	malformed(c.securityContext)
]

# The same for the Pod's own securityContext.
malformed_pod_security_context := [[null, concat(".", [spec_field, "securityContext"]), spec.securityContext] |
	malformed(spec.securityContext)
]

malformed_security_contexts := array.concat(malformed_pod_security_context, malformed_container_security_contexts)

# Findings for securityContexts that are not objects, for the checks that read them.
malformed_findings(list) := [holder_finding(c, field, sets(holder_name(c), field, value, "it must be an object")) |
	some [c, field, value] in list
]

holder_name(null) := kind_name

holder_name(c) := subject(c) if c != null

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

# "<who> must set <field> to <expected>" when absent, else "<who> sets <field> to <value>: set it to <expected>".
must_be(who, field, null, expected) := concat("", [who, " must set ", field, " to ", show(expected)])

must_be(who, field, value, expected) := sets(who, field, value, concat(" ", ["set it to", show(expected)])) if value != null

# [object, field, container] of the Pod (container null) and of every container: what holds a
# securityContext.
security_context_holders := array.concat([[spec, spec_field, null]], [[c, base, c] | some [c, base] in containers])

holder_finding(null, field, msg) := finding(field, msg)

holder_finding(c, field, msg) := container_finding(c, field, msg) if c != null
