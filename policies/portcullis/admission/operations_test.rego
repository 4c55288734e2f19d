package portcullis.admission_test

import rego.v1

import data.portcullis.admission

bad_pod := pod_with({"hostNetwork": true, "containers": [{"name": "app", "image": "nginx", "securityContext": {"privileged": true}}]})

test_delete_of_a_bad_pod_allowed if clean(delete_in_mesh(bad_pod))

test_delete_with_only_old_object_allowed if {
	inp := review("DELETE", null, bad_pod, plain_namespace)
	clean(inp)
	count(violations(object.union(inp, {"request": {"object": {}}}))) == 0
}

test_connect_allowed if {
	exec := {"apiVersion": "v1", "kind": "PodExecOptions", "command": ["sh"], "container": "app"}
	inp := {"request": {
		"uid": "c",
		"kind": {"group": "", "version": "v1", "kind": "PodExecOptions"},
		"resource": {"group": "", "version": "v1", "resource": "pods"},
		"subResource": "exec",
		"namespace": "team",
		"name": "app-1",
		"operation": "CONNECT",
		"object": exec,
		"oldObject": null,
	}}
	clean(inp)
}

test_pod_update_with_unchanged_spec_allowed if {
	relabelled := object.union(bad_pod, {"metadata": {"annotations": {"note": "x"}}})
	clean(update(bad_pod, relabelled))
}

test_pod_update_with_changed_spec_rechecked if {
	updated := object.union(bad_pod, {"spec": {"containers": [{"name": "app", "image": "nginx:1.27", "securityContext": {"privileged": true}}]}})
	rules(update(bad_pod, updated)) == {"no-host-namespaces", "no-privileged", "image-registry-allowlist"}
}

test_update_without_old_object_checked_like_create if {
	inp := review("UPDATE", bad_pod, null, plain_namespace)
	rules(inp) == {"no-host-namespaces", "no-privileged", "image-registry-allowlist", "image-tag-pinned"}
}

# A judged kind without an object to judge fails closed; a request of no kind has nothing to judge.
test_request_without_object_or_context_is_refused if {
	only({"request": {"kind": {"group": "", "version": "v1", "kind": "Pod"}, "operation": "CREATE", "object": null}}, "object-schema")
	only({"request": {"kind": {"kind": "Pod"}, "operation": "CREATE", "object": "not an object"}}, "object-schema")
	only({"request": {"kind": {"kind": "Pod"}, "operation": "UPDATE"}}, "object-schema")
	rules({"request": {"kind": {"kind": "Pod"}, "operation": "CREATE", "object": {"kind": "Pod"}}}) == {"object-schema", "required-labels"}
	clean({"request": {"kind": {"kind": "Pod"}, "operation": "DELETE", "object": null}})
	clean({})
}

test_unknown_kind_allowed if {
	cm := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team"}, "data": {"a": "b"}}
	clean(object.union(create(pod), {"request": {"kind": {"kind": "ConfigMap"}, "object": cm}}))
}

test_generated_pod_name_used_for_object_ref if {
	generated := object.union(object.remove(pod, ["metadata"]), {"metadata": {"generateName": "app-7d9c-", "labels": pod.metadata.labels}})
	inp := object.union(create(generated), {"request": {"name": ""}})
	admission.object_ref == "Pod/team/app-7d9c-" with input as inp
}

test_namespace_from_object_when_request_has_none if {
	inp := object.union(create(pod), {"request": {"namespace": ""}})
	admission.request_namespace == "team" with input as inp
	admission.request_namespace == "team" with input as object.union(delete_in_mesh(pod), {"request": {"namespace": ""}})
	admission.request_namespace == "" with input as {"request": {"operation": "CONNECT"}}
}

test_object_name_sources if {
	admission.object_name == "app-1" with input as object.union(create(pod), {"request": {"name": ""}})
	admission.object_name == "app-1" with input as object.union(delete_in_mesh(pod), {"request": {"name": ""}})
	admission.object_name == "" with input as {"request": {"operation": "CONNECT"}}
}

# An absent or null spec is an empty one, but an update that leaves it as it was changes no spec.
test_update_keeping_a_null_spec_is_metadata_only if {
	mesh_wide := object.union(istio("PeerAuthentication", "default", null), {"metadata": {"namespace": "istio-system"}})
	inp := object.union(update(mesh_wide, object.union(mesh_wide, {"metadata": {"labels": {"x": "y"}}})), {"request": {"namespace": "istio-system"}})
	clean(inp)
	only(object.union(create(mesh_wide), {"request": {"namespace": "istio-system"}}), "peer-authentication-strict")
}
