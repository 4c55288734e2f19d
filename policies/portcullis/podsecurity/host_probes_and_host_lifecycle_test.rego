package portcullis.podsecurity_test

import rego.v1

with_handler(pod, list, ops) := json.patch(pod, [object.union(op, {"path": concat("/", ["", "spec", list, "0", op.path])}) | some op in ops])

probe(kind, action, host) := [{"op": "add", "path": kind, "value": {action: {"port": 8080, "host": host}}}]

hook(kind, action, host) := [{"op": "add", "path": "lifecycle", "value": {kind: {action: {"port": 8080, "host": host}}}}]

test_host_probes_and_host_lifecycle if {
	failing_rows([[concat(" ", [name, list]), with_handler(pod, list, ops), levels[l], want] |
		some [name, ops, want] in [
			["liveness httpGet", probe("livenessProbe", "httpGet", "169.254.169.254"), {"hostProbesAndHostLifecycle"}],
			["readiness tcpSocket", probe("readinessProbe", "tcpSocket", "10.0.0.1"), {"hostProbesAndHostLifecycle"}],
			["startup httpGet", probe("startupProbe", "httpGet", "kubernetes.default"), {"hostProbesAndHostLifecycle"}],
			["postStart httpGet", hook("postStart", "httpGet", "127.0.0.1"), {"hostProbesAndHostLifecycle"}],
			["preStop tcpSocket", hook("preStop", "tcpSocket", "node"), {"hostProbesAndHostLifecycle"}],
			["empty host", probe("livenessProbe", "httpGet", ""), set()],
			["null host", probe("readinessProbe", "tcpSocket", null), set()],
			["a number", probe("livenessProbe", "httpGet", 1), {"hostProbesAndHostLifecycle"}],
			["a probe that is not an object", [{"op": "add", "path": "livenessProbe", "value": "http://10.0.0.1/"}], {"hostProbesAndHostLifecycle"}],
		]
		some list in ["initContainers", "containers"]
		some l, pod in [baseline_pod, restricted_pod]
	]) == []
	refused(with_handler(baseline_pod, "containers", probe("livenessProbe", "httpGet", "10.0.0.1")), "privileged") == set()
}

# Added in 1.34: earlier versions allow a host.
test_host_probes_and_host_lifecycle_from_1_34 if {
	pod := with_handler(baseline_pod, "containers", probe("livenessProbe", "httpGet", "10.0.0.1"))
	refused_at(pod, "baseline", "v1.33") == set()
	refused_at(pod, "baseline", "v1.34") == {"hostProbesAndHostLifecycle"}
	messages_of(pod, "baseline") == {"container \"app\" sets spec.containers[0].livenessProbe.httpGet.host to \"10.0.0.1\": remove it so the kubelet connects to the Pod's own address"}
}
