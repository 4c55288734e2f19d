package portcullis.admission_test

import rego.v1

import data.portcullis.admission

patches(inp) := p if {
	p := admission.patches with input as inp
}

seccomp_on := {"seccompProfile": {"enabled": true, "type": "RuntimeDefault"}}

labels_on := {"podLabels": {"enabled": true, "labels": {"portcullis.io/managed": "true", "team~x": "a"}}}

test_no_patches_by_default if {
	patches(create(pod)) == []
	patches(create(injected_pod)) == []
	patches({}) == []
}

patches_active := admission.patches_active

test_inactive_by_default if {
	not patches_active
	not patches_active with data.portcullis.config.mutations as {"seccompProfile": {"enabled": false}, "custom": []}
}

test_active_when_any_mutation_is_configured if {
	patches_active with data.portcullis.config.mutations as seccomp_on
	patches_active with data.portcullis.config.mutations as labels_on
	patches_active with data.portcullis.config.mutations as {"custom": [{"kinds": ["Pod"], "patch": []}]}
}

# The promise /mutate relies on: while patches_active is false, patches is empty whatever the input.
test_inactive_means_no_patches if {
	inputs := [create(pod), create(injected_pod), {}, with_context(fixture_pod_create_deployment, null), update(pod, pod), delete_in_mesh(pod), create(deployment_with({}))]
	disabled := {"seccompProfile": {"enabled": false}, "podLabels": {"enabled": false, "labels": {"a": "b"}}, "custom": []}
	every inp in inputs {
		patches(inp) == [] with data.portcullis.config.mutations as disabled
		patches(inp) == []
	}
	not patches_active with data.portcullis.config.mutations as disabled
}

test_seccomp_added_with_security_context if {
	patches(create(pod)) == [{"op": "add", "path": "/spec/securityContext", "value": {"seccompProfile": {"type": "RuntimeDefault"}}}] with data.portcullis.config.mutations as seccomp_on
}

test_seccomp_added_into_existing_security_context if {
	p := pod_with({"securityContext": {"runAsNonRoot": true}})
	patches(create(p)) == [{"op": "add", "path": "/spec/securityContext/seccompProfile", "value": {"type": "RuntimeDefault"}}] with data.portcullis.config.mutations as seccomp_on
}

test_existing_seccomp_kept if {
	patches(with_context(fixture_pod_create_deployment, null)) == [] with data.portcullis.config.mutations as seccomp_on
}

test_seccomp_type_from_data if {
	patches(create(pod)) == [{"op": "add", "path": "/spec/securityContext", "value": {"seccompProfile": {"type": "Localhost"}}}] with data.portcullis.config.mutations as {"seccompProfile": {"enabled": true, "type": "Localhost"}}
}

test_mutations_only_on_pod_create if {
	patches(update(pod, object.union(pod, {"metadata": {"labels": {"x": "y"}}}))) == [] with data.portcullis.config.mutations as seccomp_on
	patches(create(deployment_with({}))) == [] with data.portcullis.config.mutations as seccomp_on
	patches(delete_in_mesh(pod)) == [] with data.portcullis.config.mutations as seccomp_on
}

test_mutations_skip_exempt_namespaces if {
	inp := object.union(create(pod), {"request": {"namespace": "kube-system"}})
	patches(inp) == [] with data.portcullis.config.mutations as seccomp_on
}

test_pod_labels_escaped_and_sorted if {
	patches(create(pod)) == [
		{"op": "add", "path": "/metadata/labels/portcullis.io~1managed", "value": "true"},
		{"op": "add", "path": "/metadata/labels/team~0x", "value": "a"},
	] with data.portcullis.config.mutations as labels_on
}

test_pod_labels_keep_existing_values if {
	p := object.union(pod, {"metadata": {"labels": {"portcullis.io/managed": "false"}}})
	patches(create(p)) == [{"op": "add", "path": "/metadata/labels/team~0x", "value": "a"}] with data.portcullis.config.mutations as labels_on
}

test_pod_labels_added_as_object_when_pod_has_none if {
	p := object.union(object.remove(pod, ["metadata"]), {"metadata": {"name": "app-1"}})
	patches(create(p)) == [{"op": "add", "path": "/metadata/labels", "value": {"portcullis.io/managed": "true", "team~x": "a"}}] with data.portcullis.config.mutations as labels_on
}

test_patches_apply_cleanly if {
	both := object.union(seccomp_on, labels_on)
	inp := create(pod)
	ops := patches(inp) with data.portcullis.config.mutations as both
	count(ops) == 3
	patched := json.patch(pod, ops)
	patched.metadata.labels["portcullis.io/managed"] == "true"
	patched.metadata.labels["team~x"] == "a"
	patched.spec.securityContext.seccompProfile.type == "RuntimeDefault"
}

custom := {"custom": [
	{"kinds": ["Pod"], "namespaces": ["te*"], "patch": [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}]},
	{"kinds": ["Pod"], "operations": ["UPDATE"], "patch": [{"op": "remove", "path": "/spec/x"}]},
	{"kinds": ["Service"], "patch": [{"op": "add", "path": "/spec/y", "value": 1}]},
]}

test_custom_mutations_by_kind_namespace_and_operation if {
	patches(create(pod)) == [{"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}] with data.portcullis.config.mutations as custom
	patches(update(pod, pod)) == [{"op": "remove", "path": "/spec/x"}] with data.portcullis.config.mutations as custom
	patches(object.union(create(pod), {"request": {"namespace": "prod"}})) == [] with data.portcullis.config.mutations as custom
}

test_builtin_then_custom_order if {
	ops := patches(create(pod)) with data.portcullis.config.mutations as object.union(seccomp_on, custom)
	[op.path | some op in ops] == ["/spec/securityContext", "/metadata/annotations"]
}

test_pointer_escaping if {
	admission.pointer_segment("a/b~c") == "a~1b~0c"
	admission.pointer_segment("~1") == "~01"
}
