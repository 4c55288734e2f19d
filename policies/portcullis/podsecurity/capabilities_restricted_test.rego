package portcullis.podsecurity_test

import rego.v1

with_capabilities(pod, list, capabilities) := with_sc(pod, list, 0, {"capabilities": capabilities})

test_capabilities_restricted if {
	failing_rows([[concat(" ", [name, list]), with_capabilities(restricted_pod, list, capabilities), "restricted", want] |
		some [name, capabilities, want] in [
			["drop ALL", {"drop": ["ALL"]}, set()],
			["drop ALL and more", {"drop": ["NET_RAW", "ALL"]}, set()],
			["add NET_BIND_SERVICE", {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}, set()],
			["drop all in lower case", {"drop": ["all"]}, {"capabilities_restricted"}],
			["drop some", {"drop": ["NET_RAW", "SYS_ADMIN"]}, {"capabilities_restricted"}],
			["no drop", {}, {"capabilities_restricted"}],
			["drop not a list", {"drop": "ALL"}, {"capabilities_restricted"}],
			["add CHOWN", {"drop": ["ALL"], "add": ["CHOWN"]}, {"capabilities_restricted"}],
			["add another spelling", {"drop": ["ALL"], "add": ["CAP_NET_BIND_SERVICE"]}, {"capabilities_restricted"}],
			["add not a list", {"drop": ["ALL"], "add": "NET_BIND_SERVICE"}, {"capabilities_restricted"}],
			["null", null, {"capabilities_restricted"}],
		]
		some list in ["initContainers", "containers"]
	]) == []
	refused(with_capabilities(baseline_pod, "containers", {"add": ["CHOWN"]}), "baseline") == set()
}

test_capabilities_restricted_versions if {
	pod := with_capabilities(restricted_pod, "containers", {"drop": ["ALL"], "add": ["CHOWN"]})
	refused_at(pod, "restricted", "v1.21") == set()
	refused_at(pod, "restricted", "v1.22") == {"capabilities_restricted"}
	# Before 1.22 the baseline check applied at restricted; from then on it is replaced.
	refused_at(with_capabilities(restricted_pod, "containers", {"drop": ["ALL"], "add": ["SYS_ADMIN"]}), "restricted", "v1.21") == {"capabilities_baseline"}
	windows := json.patch(with_capabilities(restricted_pod, "containers", {}), [{"op": "add", "path": "/spec/os", "value": {"name": "windows"}}])
	refused_at(windows, "restricted", "v1.24") == {"capabilities_restricted"}
	refused_at(windows, "restricted", "v1.25") == set()
}

test_capabilities_restricted_messages if {
	messages_of(with_capabilities(restricted_pod, "containers", {"drop": ["NET_RAW"], "add": ["CHOWN"]}), "restricted") == {
		"container \"app\" sets spec.containers[0].securityContext.capabilities.drop to [\"NET_RAW\"]: include \"ALL\"",
		"container \"app\" adds capability \"CHOWN\" in spec.containers[0].securityContext.capabilities.add[0]: remove it (only NET_BIND_SERVICE may be added)",
	}
	messages_of(with_capabilities(restricted_pod, "initContainers", null), "restricted") == {"container \"init\" must set spec.initContainers[0].securityContext.capabilities.drop to [\"ALL\"]"}
}
