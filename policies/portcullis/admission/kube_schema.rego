# object-schema for the Kubernetes kinds Portcullis judges: the fields its rules read have the types the
# Kubernetes API gives them. The API server itself decodes Pods, workloads and Services into typed objects
# before any webhook sees them, so for its requests this never fires; it is here so that nothing else (a
# forged review, a manifest judged offline) can hide a container from the rules behind a wrong type: a
# container list that is an object, `privileged: "true"`, a template that is a string. Fields the rules
# do not read are left to the API server. Pod Security rules add the fields they read to the tables below.
package portcullis.admission

import rego.v1

# Whether the request is of a kind judged here (pod-bearing, Service, Istio): decided once per review,
# without building the set of every such kind.
kind_judged if pod_template_paths[group_kind]

kind_judged if group_kind == "/Service"

kind_judged if group_kind in istio_judged_kinds

# CREATE and UPDATE carry the object; a request for a judged kind without one cannot be judged.
violation contains {
	"rule": "object-schema",
	"msg": concat("", [kind_name, " ", operation, " carries no object to judge (request.object is ", text(object.get(input.request, "object", null)), ")"]),
	"details": {"field": "request.object"},
} if {
	kind_judged
	operation in {"CREATE", "UPDATE"}
	not is_object(object.get(input.request, "object", null))
}

# The object's own metadata, for every judged kind: rules read its name, labels, annotations and owners.
object_metadata_fields := [
	[["metadata"], "object"],
	[["metadata", "name"], "string"],
	[["metadata", "generateName"], "string"],
	[["metadata", "namespace"], "string"],
	[["metadata", "labels"], "object"],
	[["metadata", "annotations"], "object"],
	[["metadata", "ownerReferences"], "array"],
]

metadata_changed if {
	operation == "CREATE"
	new_object
}

metadata_changed if {
	operation == "UPDATE"
	new_object
	object.get(new_object, "metadata", null) != object.get(old_object, "metadata", null)
}

violation contains kube_type_violation(kind_name, field, value, expected) if {
	kind_judged
	metadata_changed
	some [path, expected] in object_metadata_fields
	value := object.get(new_object, path, null)
	not type_name(value) in kube_json_types[expected]
	field := kube_field_name("", path)
}

violation contains kube_type_violation(kind_name, field, value, "string") if {
	kind_judged
	group_kind != "/Pod"
	metadata_changed
	some map_name in ["labels", "annotations"]
	some key, value in object.get(new_object, ["metadata", map_name], {})
	not is_string(value)
	field := concat("", ["metadata.", map_name, "[", quote(key), "]"])
}

violation contains kube_type_violation(kind_name, field, value, "object") if {
	kind_judged
	metadata_changed
	refs := object.get(new_object, ["metadata", "ownerReferences"], [])
	is_array(refs)
	some i, value in refs
	not is_object(value)
	field := concat("", ["metadata.ownerReferences[", format_int(i, 10), "]"])
}

# Where the pod template and its spec are, as the author wrote them, before any rule trusts their type.
raw_pod_template := object.get(new_object, template_path, null)

raw_pod_spec := object.get(raw_pod_template, "spec", null) if is_object(raw_pod_template)

pod_shape_changed if {
	operation == "CREATE"
	new_object
}

pod_shape_changed if {
	operation == "UPDATE"
	new_object
	raw_pod_template != object.get(old_object, template_path, null)
}

pod_template_field := "" if count(template_path) == 0

pod_template_field := concat(".", template_path) if count(template_path) > 0

# [field relative to the pod template, JSON type]; an absent or null field is "not set".
pod_template_fields := [
	[["metadata"], "object"],
	[["metadata", "labels"], "object"],
	[["metadata", "annotations"], "object"],
	[["spec", "hostNetwork"], "boolean"],
	[["spec", "hostPID"], "boolean"],
	[["spec", "hostIPC"], "boolean"],
	[["spec", "serviceAccountName"], "string"],
	[["spec", "serviceAccount"], "string"],
	[["spec", "initContainers"], "array"],
	[["spec", "containers"], "array"],
	[["spec", "ephemeralContainers"], "array"],
	[["spec", "securityContext"], "object"],
	[["spec", "securityContext", "runAsUser"], "integer"],
	[["spec", "securityContext", "runAsGroup"], "integer"],
]

# [field relative to a container, JSON type], for containers of every list.
container_fields := [
	[["name"], "string"],
	[["image"], "string"],
	[["restartPolicy"], "string"],
	[["securityContext"], "object"],
	[["securityContext", "privileged"], "boolean"],
	[["securityContext", "capabilities"], "object"],
	[["securityContext", "capabilities", "add"], "array"],
	[["securityContext", "runAsUser"], "integer"],
	[["securityContext", "runAsGroup"], "integer"],
]

# The JSON types (type_name) each expected type takes; null is "not set". One lookup per field: these
# checks run on every Pod.
kube_json_types := {
	"object": {"object", "null"},
	"array": {"array", "null"},
	"string": {"string", "null"},
	"boolean": {"boolean", "null"},
	"integer": {"number", "null"},
}

kube_type_ok(expected, v) if {
	type_name(v) in kube_json_types[expected]
	not kube_fraction(expected, v)
}

kube_fraction("integer", v) if {
	is_number(v)
	v != floor(v)
}

kube_expected := {"object": "an object", "array": "a list", "string": "a string", "boolean": "true or false", "integer": "a whole number"}

kube_field_name(prefix, path) := concat(".", array.concat([prefix], [text(p) | some p in path])) if prefix != ""

kube_field_name("", path) := concat(".", [text(p) | some p in path])

kube_type_violation(kind, field, value, expected) := {
	"rule": "object-schema",
	"msg": concat("", [
		kind, " ", field, " is ", istio_value_phrase(value), ", but Kubernetes reads it as ", kube_expected[expected],
		": fix the value (the API server would refuse it, and Portcullis cannot judge what it means)",
	]),
	"details": {"field": field, "expected": kube_expected[expected]},
}

violation contains kube_type_violation(kind_name, field, raw_pod_template, "object") if {
	pod_shape_changed
	count(template_path) > 0
	not is_object(raw_pod_template)
	field := pod_template_field
}

violation contains kube_type_violation(kind_name, field, raw_pod_spec, "object") if {
	pod_shape_changed
	is_object(raw_pod_template)
	not is_object(raw_pod_spec)
	field := kube_field_name(pod_template_field, ["spec"])
}

violation contains kube_type_violation(kind_name, field, value, expected) if {
	pod_shape_changed
	is_object(raw_pod_template)
	some [path, expected] in pod_template_fields
	not pod_metadata_checked_above(path)
	value := object.get(raw_pod_template, path, null)
	not kube_type_ok(expected, value)
	field := kube_field_name(pod_template_field, path)
}

# A Pod's own metadata is its template's: checked once, with the object's.
pod_metadata_checked_above(path) if {
	group_kind == "/Pod"
	path[0] == "metadata"
}

# Label and annotation values are strings; a number there is no label the rules could read.
violation contains kube_type_violation(kind_name, field, value, "string") if {
	pod_shape_changed
	some map_name in ["labels", "annotations"]
	some key, value in object.get(raw_pod_template, ["metadata", map_name], {})
	not is_string(value)
	field := concat("", [kube_field_name(pod_template_field, ["metadata", map_name]), "[", quote(key), "]"])
}

# A list, not a set: iterating a set hashes each element at every step, here whole containers (the
# injected proxy's is most of a Pod).
raw_containers := [[list, i, c] |
	pod_shape_changed
	some list in container_lists
	containers := object.get(raw_pod_spec, list, [])
	is_array(containers)
	some i, c in containers
]

raw_container_field(list, i) := kube_field_name(pod_template_field, ["spec", concat("", [list, "[", format_int(i, 10), "]"])])

violation contains kube_type_violation(kind_name, field, c, "object") if {
	some [list, i, c] in raw_containers
	not is_object(c)
	field := raw_container_field(list, i)
}

violation contains kube_type_violation(kind_name, field, value, expected) if {
	some [list, i, c] in raw_containers
	is_object(c)
	some [path, expected] in container_fields
	value := object.get(c, path, null)
	not kube_type_ok(expected, value)
	field := concat(".", array.concat([raw_container_field(list, i)], path))
}

violation contains kube_type_violation(kind_name, field, cap, "string") if {
	some [list, i, c] in raw_containers
	adds := object.get(c, ["securityContext", "capabilities", "add"], [])
	is_array(adds)
	some j, cap in adds
	not is_string(cap)
	field := concat("", [raw_container_field(list, i), ".securityContext.capabilities.add[", format_int(j, 10), "]"])
}

# A container without a name or an image cannot be matched against the proxy, the allowlists or the
# exemptions; the API server requires both.
violation contains {
	"rule": "object-schema",
	"msg": concat("", [kind_name, " ", field, " has no ", name, ", which Kubernetes requires: set it"]),
	"details": {"field": field, "missing": name},
} if {
	some [list, i, c] in raw_containers
	is_object(c)
	some name in ["name", "image"]
	object.get(c, name, null) == null
	field := raw_container_field(list, i)
}

service_port_fields := [["name", "string"], ["appProtocol", "string"], ["port", "integer"]]

violation contains kube_type_violation(kind_name, "spec", spec, "object") if {
	group_kind == "/Service"
	spec_changed
	not is_object(spec)
}

violation contains kube_type_violation(kind_name, "spec.ports", ports, "array") if {
	group_kind == "/Service"
	spec_changed
	ports := object.get(spec, "ports", null)
	not kube_type_ok("array", ports)
}

service_ports contains [i, p] if {
	group_kind == "/Service"
	spec_changed
	ports := object.get(spec, "ports", [])
	is_array(ports)
	some i, p in ports
}

violation contains kube_type_violation(kind_name, field, p, "object") if {
	some [i, p] in service_ports
	not is_object(p)
	field := concat("", ["spec.ports[", format_int(i, 10), "]"])
}

violation contains kube_type_violation(kind_name, field, value, expected) if {
	some [i, p] in service_ports
	is_object(p)
	some [name, expected] in service_port_fields
	value := object.get(p, name, null)
	not kube_type_ok(expected, value)
	field := concat("", ["spec.ports[", format_int(i, 10), "].", name])
}
