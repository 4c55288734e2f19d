# Views of the AdmissionReview request shared by every rule. DELETE carries only oldObject and
# CONNECT carries an options object, so rules reach the object through these guarded views.
package portcullis.admission

import rego.v1

operation := input.request.operation

group_kind := concat("/", [object.get(input.request, ["kind", "group"], ""), object.get(input.request, ["kind", "kind"], "")])

new_object := input.request.object if {
	operation in {"CREATE", "UPDATE"}
	is_object(input.request.object)
}

default old_object := {}

old_object := input.request.oldObject if is_object(input.request.oldObject)

request_namespace := ns if {
	ns := input.request.namespace
	ns != ""
} else := ns if {
	ns := new_object.metadata.namespace
} else := ns if {
	ns := old_object.metadata.namespace
} else := ""

# Pods made by controllers have only generateName at admission time; exemptions match its prefix.
object_name := n if {
	n := input.request.name
	n != ""
} else := n if {
	n := new_object.metadata.name
	n != ""
} else := n if {
	n := old_object.metadata.name
	n != ""
} else := n if {
	n := new_object.metadata.generateName
} else := ""

object_ref := concat("/", [object.get(input.request, ["kind", "kind"], ""), request_namespace, object_name])

namespace_labels := object.get(input, ["context", "namespace", "labels"], {})

mesh_namespace if namespace_labels[injection_label] == "enabled"

# An absent spec, or null (Kubernetes' and Istio's "not set"), is an empty one.
spec := s if {
	s := new_object.spec
	s != null
} else := {} if {
	new_object
}

# On UPDATE a rule only looks at the spec when the spec changed: metadata-only updates such as a
# finalizer removal during deletion must never be blocked by an older, grandfathered spec.
spec_changed if {
	operation == "CREATE"
	new_object
}

spec_changed if {
	operation == "UPDATE"
	object.get(new_object, "spec", null) != object.get(old_object, "spec", null)
}

# Who sends the request: the deletableBy lists of the protected objects name users.
request_user := object.get(input.request, ["userInfo", "username"], "")
