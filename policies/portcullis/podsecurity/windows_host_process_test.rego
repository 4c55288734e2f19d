package portcullis.podsecurity_test

import rego.v1

test_windows_host_process if {
	failing_rows([[concat(" ", [name, json.marshal(target)]), pod, levels[l], want] |
		some [name, value, want] in [
			["true", true, {"windowsHostProcess"}],
			["false", false, set()],
			["null", null, set()],
			["a string", "true", {"windowsHostProcess"}],
		]
		some target in [[null, 0], ["initContainers", 0], ["containers", 0]]
		some l, pod in both_sc(target[0], target[1], {"windowsOptions": {"hostProcess": value}})
	]) == []
	pod := with_sc(baseline_pod, null, 0, {"windowsOptions": {"hostProcess": true}})
	messages_of(pod, "baseline") == {"Pod sets spec.securityContext.windowsOptions.hostProcess to true: remove it or set it to false"}
	refused(with_sc(baseline_pod, "containers", 0, {"windowsOptions": "HostProcess"}), "baseline") == {"windowsHostProcess"}
}
