# hostNamespaces (baseline): sharing the node's network, PID or IPC namespace is not allowed.
# Fields: spec.hostNetwork, spec.hostPID, spec.hostIPC. Allowed: absent, false.
package portcullis.podsecurity

import rego.v1

host_namespaces_v1_0 := [f |
	some [name, what] in [["hostNetwork", "network"], ["hostPID", "PID"], ["hostIPC", "IPC"]]
	value := object.get(spec, name, null)
	value != null
	value != false
	field := concat(".", [spec_field, name])
	f := object.union(finding(field, sets(kind_name, field, value, concat("", [
		"remove it or set it to false (the Pod would share the node's ", what, " namespace)",
	]))), floor_tag("no-host-namespaces", value))
]
