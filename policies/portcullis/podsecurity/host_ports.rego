# hostPorts (baseline): a host port binds the node's own address, beside every other Pod's.
# Field: ports[*].hostPort of every container. Allowed: absent, 0.
package portcullis.podsecurity

import rego.v1

host_ports_v1_0 := [f |
	some [c, base] in containers
	some [path, value, fix] in bad_ports(c.ports)
	field := concat(".", [base, path])
	f := container_finding(c, field, sets(subject(c), field, value, fix))
]

bad_ports(ports) := [["ports", ports, "it must be a list of ports"]] if {
	ports != null
	not is_array(ports)
}

bad_ports(ports) := [bad |
	some i, port in ports
	some bad in bad_port(concat("", ["ports[", format_int(i, 10), "]"]), port)
] if is_array(ports)

bad_port(path, port) := [[path, port, "it must be a port object"]] if not is_object(port)

bad_port(path, port) := [[concat(".", [path, "hostPort"]), port.hostPort, "remove it or set it to 0, and reach the Pod through a Service"]] if {
	port.hostPort != 0
	port.hostPort != null
}
