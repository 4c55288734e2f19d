package portcullis.podsecurity_test

import rego.v1

with_ports(pod, list, ports) := json.patch(pod, [{"op": "add", "path": concat("/", ["", "spec", list, "0", "ports"]), "value": ports}])

test_host_ports if {
	failing_rows([[concat(" ", [name, list]), with_ports(pod, list, ports), levels[l], want] |
		some [name, ports, want] in [
			["a host port", [{"containerPort": 8080, "hostPort": 8080}], {"hostPorts"}],
			["one of several", [{"containerPort": 80}, {"containerPort": 443, "hostPort": 443}], {"hostPorts"}],
			["zero", [{"containerPort": 80, "hostPort": 0}], set()],
			["null", [{"containerPort": 80, "hostPort": null}], set()],
			["none", [{"containerPort": 80}], set()],
			["a string", [{"containerPort": 80, "hostPort": "80"}], {"hostPorts"}],
			["zero as a string", [{"containerPort": 80, "hostPort": "0"}], {"hostPorts"}],
			["ports not a list", {"containerPort": 80, "hostPort": 80}, {"hostPorts"}],
			["a port that is not an object", [0], {"hostPorts"}],
		]
		some list in ["initContainers", "containers"]
		some l, pod in [baseline_pod, restricted_pod]
	]) == []
	refused(with_ports(baseline_pod, "containers", [{"containerPort": 80, "hostPort": 80}]), "privileged") == set()
}

test_host_ports_message if {
	pod := with_ports(baseline_pod, "containers", [{"containerPort": 80}, {"containerPort": 443, "hostPort": 443}])
	messages_of(pod, "baseline") == {"container \"app\" sets spec.containers[0].ports[1].hostPort to 443: remove it or set it to 0, and reach the Pod through a Service"}
}
