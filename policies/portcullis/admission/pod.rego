# Where the Pod spec lives in each pod-bearing kind. Workload controllers are checked through
# their template so authors learn about a bad spec at `kubectl apply`, not from a stuck ReplicaSet.
package portcullis.admission

import rego.v1

pod_template_paths := {
	"/Pod": [],
	"/ReplicationController": ["spec", "template"],
	"apps/Deployment": ["spec", "template"],
	"apps/StatefulSet": ["spec", "template"],
	"apps/DaemonSet": ["spec", "template"],
	"apps/ReplicaSet": ["spec", "template"],
	"batch/Job": ["spec", "template"],
	"batch/CronJob": ["spec", "jobTemplate", "spec", "template"],
}

template_path := pod_template_paths[group_kind]

kind_name := input.request.kind.kind

# Field paths in messages are relative to the object the author edits, e.g. spec.template.spec.
template_prefix := "" if count(template_path) == 0

template_prefix := concat("", [concat(".", template_path), "."]) if count(template_path) > 0

pod_template := t if {
	t := object.get(new_object, template_path, null)
	is_object(t)
}

pod_spec := s if {
	s := pod_template.spec
	is_object(s)
}

old_pod_template := object.get(old_object, template_path, {})

pod_labels := object.get(pod_template, ["metadata", "labels"], {})

pod_spec_changed if {
	operation == "CREATE"
	pod_spec
}

pod_spec_changed if {
	operation == "UPDATE"
	pod_spec != object.get(old_pod_template, "spec", null)
}

pod_labels_changed if {
	operation == "CREATE"
	pod_template
}

pod_labels_changed if {
	operation == "UPDATE"
	pod_template
	pod_labels != object.get(old_pod_template, ["metadata", "labels"], {})
}

container_lists := ["initContainers", "containers", "ephemeralContainers"]

# [list, index] of every container of a changed pod spec; rules read the container through it. A list,
# not a set: every rule iterates it, and OPA's WebAssembly hashes a set's element at each step.
container_refs := [[list, i] |
	pod_spec_changed
	some list in container_lists
	containers := object.get(pod_spec, list, [])
	is_array(containers)
	some i, c in containers
	is_object(c)
]

# A container in a message: its name, or that it has none a message could show (object-schema says why).
container_label(c) := quote(c.name) if is_string(c.name)

else := "without a valid name"

container_field(list, i) := concat("", [template_prefix, "spec.", list, "[", format_int(i, 10), "]"])

# null is "not set"; a value that is not a string counts as not set too (object-schema reports it).
pod_service_account := sa if {
	sa := pod_spec.serviceAccountName
	is_string(sa)
	sa != ""
} else := sa if {
	sa := pod_spec.serviceAccount
	is_string(sa)
	sa != ""
} else := "default" if {
	pod_spec
}

service_account_ref := concat("/", [request_namespace, pod_service_account])
