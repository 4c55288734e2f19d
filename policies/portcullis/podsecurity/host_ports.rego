# hostPorts (baseline): a host port binds the node's own address, beside every other Pod's.
# Field: ports[*].hostPort of every container. Allowed: absent, 0.
package portcullis.podsecurity

import rego.v1

host_ports_v1_0 := malformed_ports | {f |
	some [c, base] in containers
	[ports_field, ports] := read(c, ["ports"], base)
	some [port_field, port] in list_entries(ports_field, ports)
	some f in host_port(c, port, port_field)
}

host_port(c, port, port_field) := [container_finding(c, field, sets(subject(c), field, value, "remove it or set it to 0, and reach the Pod through a Service")) |
	[field, value] := read(port, ["hostPort"], port_field)
	not value in {null, 0}
] if is_object(port)

host_port(c, port, field) := [container_finding(c, field, sets(subject(c), field, port, "it must be a port object"))] if not is_object(port)

malformed_ports := {f |
	some [c, base] in containers
	[field, ports] := read(c, ["ports"], base)
	not_a_list(ports)
	f := container_finding(c, field, sets(subject(c), field, ports, "it must be a list of ports"))
}
