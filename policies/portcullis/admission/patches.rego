# Entry point portcullis/admission/patches: optional mutations, as RFC 6902 operations applied after
# sidecar injection. Nothing is changed unless an operator enables it in data.portcullis.config.mutations:
#   seccompProfile  {enabled, type}     Pod-level seccompProfile when the Pod sets none
#   podLabels       {enabled, labels}   labels added to Pods that lack them (existing values win)
#   custom          [{kinds, namespaces, operations, patch}]  operator-written operations, verbatim
package portcullis.admission

import rego.v1

patches := array.concat(array.concat(seccomp_patches, pod_label_patches), custom_patches)

# Entry point portcullis/admission/patches_active: whether any mutation is configured at all. It reads data
# only, so Portcullis evaluates it once per policy snapshot and, while it is false, answers /mutate with the
# sidecar alone instead of evaluating patches for every Pod. Every patch above needs one of these to hold.
default patches_active := false

patches_active if {
	some name in ["seccompProfile", "podLabels"]
	mutation_enabled(name)
}

patches_active if count(object.get(mutations, "custom", [])) > 0

# RFC 6901: "~" is escaped before "/", otherwise the "~" of "~1" would be escaped again.
pointer_segment(s) := replace(replace(s, "~", "~0"), "/", "~1")

mutable_pod if {
	group_kind == "/Pod"
	operation == "CREATE"
	pod_spec
	not globally_exempt
}

mutation_enabled(name) if mutations[name].enabled == true

default seccomp_patches := []

seccomp_profile := {"type": object.get(mutations, ["seccompProfile", "type"], "RuntimeDefault")}

seccomp_patches := [{"op": "add", "path": "/spec/securityContext", "value": {"seccompProfile": seccomp_profile}}] if {
	mutation_enabled("seccompProfile")
	mutable_pod
	not is_object(object.get(pod_spec, "securityContext", null))
}

seccomp_patches := [{"op": "add", "path": "/spec/securityContext/seccompProfile", "value": seccomp_profile}] if {
	mutation_enabled("seccompProfile")
	mutable_pod
	is_object(pod_spec.securityContext)
	not pod_spec.securityContext.seccompProfile
}

default pod_label_patches := []

wanted_pod_labels := object.get(mutations, ["podLabels", "labels"], {})

pod_label_patches := [{"op": "add", "path": "/metadata/labels", "value": wanted_pod_labels}] if {
	mutation_enabled("podLabels")
	mutable_pod
	count(wanted_pod_labels) > 0
	not is_object(object.get(pod_template, ["metadata", "labels"], null))
}

# Sorted keys keep the patch identical across evaluations and engines.
pod_label_patches := [{"op": "add", "path": concat("/", ["/metadata/labels", pointer_segment(key)]), "value": wanted_pod_labels[key]} |
	some key in sort([k | some k, _ in wanted_pod_labels])
	not key in pod_label_keys
] if {
	mutation_enabled("podLabels")
	mutable_pod
	is_object(pod_template.metadata.labels)
}

pod_label_keys contains key if some key, _ in pod_labels

custom_patches := [op |
	some m in mutations.custom
	custom_mutation_applies(m)
	some op in m.patch
]

custom_mutation_applies(m) if {
	kind_name in m.kinds
	operation in object.get(m, "operations", ["CREATE"])
	custom_namespace_matches(m)
	not globally_exempt
}

custom_namespace_matches(m) if not m.namespaces

custom_namespace_matches(m) if matches_any(m.namespaces, request_namespace)
