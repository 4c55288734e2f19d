# hostPorts (baseline): a host port binds the node's own address, beside every other Pod's.
# Field: ports[*].hostPort of every container. Allowed: absent, 0.
package portcullis.podsecurity

import rego.v1

host_ports_v1_0 := {f |
	some [c, base] in containers
	[ports_field, ports] := read(c, ["ports"], base)
	some [port_field, port] in list_entries(ports_field, ports)
	[field, value] := host_port(port, port_field)
	not value in {null, 0}
	f := container_finding(c, field, sets(subject(c), field, value, "remove it or set it to 0, and reach the Pod through a Service"))
}

host_port(port, field) := read(port, ["hostPort"], field) if is_object(port)

host_port(port, field) := [field, port] if not is_object(port)
