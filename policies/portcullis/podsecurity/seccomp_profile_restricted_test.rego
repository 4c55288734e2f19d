package portcullis.podsecurity_test

import rego.v1

# The restricted Pod without its Pod-level seccomp profile.
no_pod_seccomp := json.patch(restricted_pod, [{"op": "remove", "path": "/spec/securityContext/seccompProfile"}])

test_seccomp_profile_restricted if {
	failing_rows([
		["pod RuntimeDefault", restricted_pod, "restricted", set()],
		["pod Localhost", with_sc(restricted_pod, null, 0, {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}), "restricted", set()],
		["pod Unconfined", with_sc(restricted_pod, null, 0, {"seccompProfile": {"type": "Unconfined"}}), "restricted", {"seccompProfile_restricted"}],
		["unset", no_pod_seccomp, "restricted", {"seccompProfile_restricted"}],
		["every container", with_sc(with_sc(no_pod_seccomp, "initContainers", 0, {"seccompProfile": {"type": "RuntimeDefault"}}), "containers", 0, {"seccompProfile": {"type": "Localhost", "localhostProfile": "p"}}), "restricted", set()],
		["one container", with_sc(no_pod_seccomp, "containers", 0, {"seccompProfile": {"type": "RuntimeDefault"}}), "restricted", {"seccompProfile_restricted"}],
		["container Unconfined under the pod's", with_sc(restricted_pod, "initContainers", 0, {"seccompProfile": {"type": "Unconfined"}}), "restricted", {"seccompProfile_restricted"}],
		["container without a type", with_sc(restricted_pod, "containers", 0, {"seccompProfile": {}}), "restricted", {"seccompProfile_restricted"}],
		["pod profile not an object", with_sc(restricted_pod, null, 0, {"seccompProfile": "RuntimeDefault"}), "restricted", {"seccompProfile_restricted"}],
		["baseline unset", baseline_pod, "baseline", set()],
	]) == []
}

test_seccomp_profile_restricted_versions if {
	refused_at(no_pod_seccomp, "restricted", "v1.18") == set()
	refused_at(no_pod_seccomp, "restricted", "v1.19") == {"seccompProfile_restricted"}
	windows := json.patch(no_pod_seccomp, [{"op": "add", "path": "/spec/os", "value": {"name": "windows"}}])
	refused_at(windows, "restricted", "v1.24") == {"seccompProfile_restricted"}
	refused_at(windows, "restricted", "v1.25") == set()
	# At restricted seccompProfile_restricted replaces seccompProfile_baseline from 1.19; before, the
	# baseline check (annotations) applies.
	unconfined := annotated(no_pod_seccomp, {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"})
	refused_at(unconfined, "restricted", "v1.18") == {"seccompProfile_baseline"}
}

test_seccomp_profile_restricted_messages if {
	messages_of(with_sc(no_pod_seccomp, "initContainers", 0, {"seccompProfile": {"type": "RuntimeDefault"}}), "restricted") == {"container \"app\" must set spec.containers[0].securityContext.seccompProfile.type to RuntimeDefault or Localhost (or spec.securityContext.seccompProfile.type for every container)"}
}
