package portcullis.podsecurity_test

import rego.v1

# The restricted Pod without its Pod-level runAsNonRoot.
unset_pod := json.patch(restricted_pod, [{"op": "remove", "path": "/spec/securityContext/runAsNonRoot"}])

test_run_as_non_root if {
	failing_rows([
		["pod true", restricted_pod, "restricted", set()],
		["pod false", with_sc(restricted_pod, null, 0, {"runAsNonRoot": false}), "restricted", {"runAsNonRoot"}],
		["pod a string", with_sc(restricted_pod, null, 0, {"runAsNonRoot": "true"}), "restricted", {"runAsNonRoot"}],
		["unset", unset_pod, "restricted", {"runAsNonRoot"}],
		["every container true", with_sc(with_sc(unset_pod, "initContainers", 0, {"runAsNonRoot": true}), "containers", 0, {"runAsNonRoot": true}), "restricted", set()],
		["one container true", with_sc(unset_pod, "containers", 0, {"runAsNonRoot": true}), "restricted", {"runAsNonRoot"}],
		["container false under pod true", with_sc(restricted_pod, "initContainers", 0, {"runAsNonRoot": false}), "restricted", {"runAsNonRoot"}],
		["container a string under pod true", with_sc(restricted_pod, "containers", 0, {"runAsNonRoot": "true"}), "restricted", {"runAsNonRoot"}],
		["container null under pod true", with_sc(restricted_pod, "containers", 0, {"runAsNonRoot": null}), "restricted", set()],
		["baseline", with_sc(baseline_pod, null, 0, {"runAsNonRoot": false}), "baseline", set()],
	]) == []
}

test_run_as_non_root_user_namespaces if {
	pod := json.patch(with_sc(restricted_pod, null, 0, {"runAsNonRoot": false}), [{"op": "add", "path": "/spec/hostUsers", "value": false}])
	refused_at(pod, "restricted", "v1.34") == {"runAsNonRoot"}
	refused_at(pod, "restricted", "v1.35") == set()
	host_users := json.patch(pod, [{"op": "replace", "path": "/spec/hostUsers", "value": true}])
	refused(host_users, "restricted") == {"runAsNonRoot"}
}

test_run_as_non_root_messages if {
	messages_of(unset_pod, "restricted") == {
		"container \"app\" must set spec.containers[0].securityContext.runAsNonRoot to true (or spec.securityContext.runAsNonRoot to true for every container)",
		"container \"init\" must set spec.initContainers[0].securityContext.runAsNonRoot to true (or spec.securityContext.runAsNonRoot to true for every container)",
	}
	messages_of(with_sc(restricted_pod, null, 0, {"runAsNonRoot": false}), "restricted") == {
		"Pod sets spec.securityContext.runAsNonRoot to false: set it to true",
		"container \"app\" must set spec.containers[0].securityContext.runAsNonRoot to true (or spec.securityContext.runAsNonRoot to true for every container)",
		"container \"init\" must set spec.initContainers[0].securityContext.runAsNonRoot to true (or spec.securityContext.runAsNonRoot to true for every container)",
	}
}
