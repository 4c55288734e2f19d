package portcullis.podsecurity_test

import rego.v1

seccomp(name) := concat("", ["container.seccomp.security.alpha.kubernetes.io/", name])

seccomp_pod := "seccomp.security.alpha.kubernetes.io/pod"

test_seccomp_profile_baseline_fields if {
	failing_rows([[name, pod, "baseline", want] |
		some [name, target, value, want] in [
			["pod Unconfined", null, {"type": "Unconfined"}, {"seccompProfile_baseline"}],
			["pod RuntimeDefault", null, {"type": "RuntimeDefault"}, set()],
			["pod Localhost", null, {"type": "Localhost", "localhostProfile": "p.json"}, set()],
			["pod without a type", null, {}, {"seccompProfile_baseline"}],
			["init container Unconfined", "initContainers", {"type": "Unconfined"}, {"seccompProfile_baseline"}],
			["container Unconfined", "containers", {"type": "Unconfined"}, {"seccompProfile_baseline"}],
			["container RuntimeDefault", "containers", {"type": "RuntimeDefault"}, set()],
			["container another spelling", "containers", {"type": "runtimedefault"}, {"seccompProfile_baseline"}],
			["container not an object", "containers", "RuntimeDefault", {"seccompProfile_baseline"}],
			["container null", "containers", null, set()],
		]
		pod := with_sc(baseline_pod, target, 0, {"seccompProfile": value})
	]) == []
}

# Up to 1.18 the Standard read annotations; from 1.19 the fields, into which the API server copies them.
test_seccomp_profile_baseline_annotations_up_to_1_18 if {
	[[name, version] |
		some [name, annotations, want] in [
			["pod unconfined", {seccomp_pod: "unconfined"}, {"seccompProfile_baseline"}],
			["pod runtime/default", {seccomp_pod: "runtime/default"}, set()],
			["pod docker/default", {seccomp_pod: "docker/default"}, set()],
			["pod localhost", {seccomp_pod: "localhost/p.json"}, set()],
			["pod empty", {seccomp_pod: ""}, {"seccompProfile_baseline"}],
			["container unconfined", {seccomp("app"): "unconfined"}, {"seccompProfile_baseline"}],
			["init container unconfined", {seccomp("init"): "unconfined"}, {"seccompProfile_baseline"}],
			["a container that does not exist", {seccomp("nobody"): "unconfined"}, set()],
		]
		some version in ["v1.0", "v1.18"]
		refused_at(annotated(baseline_pod, annotations), "baseline", version) != want
	] == []
	refused_at(annotated(baseline_pod, {seccomp_pod: "unconfined"}), "baseline", "v1.19") == set()
	refused_at(with_sc(baseline_pod, null, 0, {"seccompProfile": {"type": "Unconfined"}}), "baseline", "v1.18") == set()
}

test_seccomp_profile_baseline_message if {
	pod := with_sc(baseline_pod, "containers", 0, {"seccompProfile": {"type": "Unconfined"}})
	messages_of(pod, "baseline") == {"container \"app\" sets spec.containers[0].securityContext.seccompProfile.type to \"Unconfined\": use RuntimeDefault or Localhost"}
	annotated_pod := annotated(baseline_pod, {seccomp_pod: "unconfined"})
	{v.msg | some v in pod_security(review(annotated_pod, enforcing_version("baseline", "v1.18")))} == {"Pod sets metadata.annotations[\"seccomp.security.alpha.kubernetes.io/pod\"] to \"unconfined\": use runtime/default or localhost/<profile>"}
}
