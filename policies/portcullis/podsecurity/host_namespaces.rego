# hostNamespaces (baseline): sharing the node's network, PID or IPC namespace is not allowed.
# Fields: spec.hostNetwork, spec.hostPID, spec.hostIPC. Allowed: absent, false.
package portcullis.podsecurity

import rego.v1

host_namespace_fields := {"hostNetwork": "network", "hostPID": "PID", "hostIPC": "IPC"}

host_namespaces_v1_0 := {f |
	some name, what in host_namespace_fields
	[field, value] := read(spec, [name], spec_field)
	not value in {null, false}
	f := object.union(finding(field, sets(kind_name, field, value, concat("", [
		"the Pod would share the node's ", what, " namespace; remove it or set it to false",
	]))), floor_tag("no-host-namespaces", value))
}
