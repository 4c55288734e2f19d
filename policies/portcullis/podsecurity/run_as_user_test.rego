package portcullis.podsecurity_test

import rego.v1

test_run_as_user if {
	failing_rows([[concat(" ", [name, json.marshal(target)]), with_sc(restricted_pod, target[0], target[1], {"runAsUser": value}), "restricted", want] |
		some [name, value, want] in [
			["root", 0, {"runAsUser"}],
			["root as a float", 0.0, {"runAsUser"}],
			["a user", 1000, set()],
			["the proxy's user", 1337, set()],
			["null", null, set()],
			["a string", "0", {"runAsUser"}],
			["a string of a user", "1000", {"runAsUser"}],
		]
		some target in [[null, 0], ["initContainers", 0], ["containers", 0]]
	]) == []
	refused(with_sc(baseline_pod, null, 0, {"runAsUser": 0}), "baseline") == set()
}

test_run_as_user_versions if {
	pod := with_sc(restricted_pod, "containers", 0, {"runAsUser": 0})
	refused_at(pod, "restricted", "v1.22") == set()
	refused_at(pod, "restricted", "v1.23") == {"runAsUser"}
	user_namespace := json.patch(pod, [{"op": "add", "path": "/spec/hostUsers", "value": false}])
	refused_at(user_namespace, "restricted", "v1.34") == {"runAsUser"}
	refused_at(user_namespace, "restricted", "v1.35") == set()
	messages_of(pod, "restricted") == {"container \"app\" sets spec.containers[0].securityContext.runAsUser to 0: run as a user other than root (0)"}
}
