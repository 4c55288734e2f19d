# hostProbesAndHostLifecycle (baseline, from 1.34): a probe or lifecycle handler with a host makes the
# kubelet connect, from the node, to any address the author names.
# Fields: host of httpGet and tcpSocket in livenessProbe, readinessProbe, startupProbe and in
# lifecycle.postStart and lifecycle.preStop of every container. Allowed: absent, "".
package portcullis.podsecurity

import rego.v1

handler_paths := [["livenessProbe"], ["readinessProbe"], ["startupProbe"], ["lifecycle", "postStart"], ["lifecycle", "preStop"]]

host_probes_and_host_lifecycle_v1_34 := {f |
	some [c, base] in containers
	some path in handler_paths
	some action in ["httpGet", "tcpSocket"]
	[field, value] := read(c, array.concat(path, [action, "host"]), base)
	not value in {null, ""}
	f := container_finding(c, field, sets(subject(c), field, value, "remove it so the kubelet connects to the Pod's own address"))
}
