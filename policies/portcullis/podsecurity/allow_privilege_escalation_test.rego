package portcullis.podsecurity_test

import rego.v1

without_ape(pod, list) := json.patch(pod, [{"op": "remove", "path": concat("/", ["", "spec", list, "0", "securityContext", "allowPrivilegeEscalation"])}])

test_allow_privilege_escalation if {
	failing_rows([[concat(" ", [name, list]), with_sc(restricted_pod, list, 0, {"allowPrivilegeEscalation": value}), "restricted", want] |
		some [name, value, want] in [
			["false", false, set()],
			["true", true, {"allowPrivilegeEscalation"}],
			["null", null, {"allowPrivilegeEscalation"}],
			["a string", "false", {"allowPrivilegeEscalation"}],
			["zero", 0, {"allowPrivilegeEscalation"}],
		]
		some list in ["initContainers", "containers"]
	]) == []
	refused(without_ape(restricted_pod, "containers"), "restricted") == {"allowPrivilegeEscalation"}
	refused(with_sc(baseline_pod, "containers", 0, {"allowPrivilegeEscalation": true}), "baseline") == set()
}

test_allow_privilege_escalation_versions if {
	pod := without_ape(restricted_pod, "initContainers")
	refused_at(pod, "restricted", "v1.7") == set()
	refused_at(pod, "restricted", "v1.8") == {"allowPrivilegeEscalation"}
	windows := json.patch(pod, [{"op": "add", "path": "/spec/os", "value": {"name": "windows"}}])
	refused_at(windows, "restricted", "v1.24") == {"allowPrivilegeEscalation"}
	refused_at(windows, "restricted", "v1.25") == set()
	linux := json.patch(pod, [{"op": "add", "path": "/spec/os", "value": {"name": "linux"}}])
	refused(linux, "restricted") == {"allowPrivilegeEscalation"}
	spelled := json.patch(pod, [{"op": "add", "path": "/spec/os", "value": {"name": "Windows"}}])
	refused(spelled, "restricted") == {"allowPrivilegeEscalation"}
}

test_allow_privilege_escalation_messages if {
	messages_of(without_ape(restricted_pod, "containers"), "restricted") == {"container \"app\" must set spec.containers[0].securityContext.allowPrivilegeEscalation to false"}
	messages_of(with_sc(restricted_pod, "containers", 0, {"allowPrivilegeEscalation": true}), "restricted") == {"container \"app\" sets spec.containers[0].securityContext.allowPrivilegeEscalation to true: set it to false"}
}
