package portcullis.podsecurity_test

import rego.v1

annotated(pod, annotations) := json.patch(pod, [{"op": "add", "path": "/metadata/annotations", "value": annotations}])

app_armor(name) := concat("", ["container.apparmor.security.beta.kubernetes.io/", name])

test_app_armor_profile_fields if {
	failing_rows(array.concat(
		container_rows("appArmorProfile", [
			["Unconfined", {"type": "Unconfined"}, {"appArmorProfile"}],
			["RuntimeDefault", {"type": "RuntimeDefault"}, set()],
			["Localhost", {"type": "Localhost", "localhostProfile": "p"}, set()],
			["no type", {}, {"appArmorProfile"}],
			["another spelling", {"type": "unconfined"}, {"appArmorProfile"}],
			["not an object", "Unconfined", {"appArmorProfile"}],
			["null", null, set()],
		]),
		[[name, pod, levels[l], want] |
			some [name, value, want] in [
				["pod Unconfined", {"type": "Unconfined"}, {"appArmorProfile"}],
				["pod RuntimeDefault", {"type": "RuntimeDefault"}, set()],
				["pod type null", {"type": null}, {"appArmorProfile"}],
			]
			some l, pod in both_sc(null, 0, {"appArmorProfile": value})
		],
	)) == []
}

test_app_armor_profile_annotations if {
	failing_rows([[name, annotated(pod, annotations), levels[l], want] |
		some [name, annotations, want] in [
			["unconfined", {app_armor("app"): "unconfined"}, {"appArmorProfile"}],
			["runtime/default", {app_armor("app"): "runtime/default"}, set()],
			["localhost", {app_armor("app"): "localhost/profile"}, set()],
			["empty", {app_armor("app"): ""}, set()],
			["a container that does not exist", {app_armor("nobody"): "unconfined"}, {"appArmorProfile"}],
			["another spelling", {app_armor("init"): "Unconfined"}, {"appArmorProfile"}],
			["other annotations", {"apparmor.security.beta.kubernetes.io/app": "unconfined"}, set()],
		]
		some l, pod in [baseline_pod, restricted_pod]
	]) == []
	refused(annotated(baseline_pod, {app_armor("app"): "unconfined"}), "privileged") == set()
}

# The annotations are read whatever the spec holds: a spec of the wrong type (object-schema's) or none at all
# does not hide them.
test_app_armor_profile_annotations_without_a_spec if {
	unconfined := annotated(baseline_pod, {app_armor("app"): "unconfined"})
	every spec in ["x", null, []] {
		refused(json.patch(unconfined, [{"op": "replace", "path": "/spec", "value": spec}]), "baseline") == {"appArmorProfile"}
	}
	refused(json.remove(unconfined, ["spec"]), "baseline") == {"appArmorProfile"}
	fields_by(json.patch(deployment(unconfined), [{"op": "replace", "path": "/spec/template/spec", "value": "x"}]), enforcing("baseline")) == {"appArmorProfile": {
		"spec.template.metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/app\"]",
	}}
}

test_app_armor_profile_messages if {
	pod := with_sc(annotated(baseline_pod, {app_armor("app"): "unconfined"}), "containers", 0, {"appArmorProfile": {"type": "Unconfined"}})
	messages_of(pod, "baseline") == {
		"Pod sets metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/app\"] to \"unconfined\": use runtime/default or localhost/<profile>",
		"container \"app\" sets spec.containers[0].securityContext.appArmorProfile.type to \"Unconfined\": use RuntimeDefault or Localhost",
	}
	fields_by(deployment(pod), enforcing("baseline")) == {"appArmorProfile": {
		"spec.template.metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/app\"]",
		"spec.template.spec.containers[0].securityContext.appArmorProfile.type",
	}}
}
