# Rule 10: the sidecar picks its protocol handling (and so which authorization attributes exist)
# from the port name or appProtocol; an undeclared port is treated as opaque TCP.
package portcullis.admission

import rego.v1

# Istio's protocol selection prefixes; the name is "<protocol>" or "<protocol>-<suffix>".
port_protocols := {"http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "mongo", "mysql", "redis", "udp"}

port_protocol_declared(p) if {
	is_string(p.appProtocol)
	count(p.appProtocol) > 0
}

port_protocol_declared(p) if lower(p.name) in port_protocols

port_protocol_declared(p) if split(lower(p.name), "-")[0] in port_protocols

violation contains {
	"rule": "service-port-protocol",
	"msg": concat("", [
		"Service port ", port_label(p), " (spec.ports[", format_int(i, 10), "]) ", port_problem(p),
		": name it <protocol>[-<suffix>] with protocol one of grpc, grpc-web, http, http2, https, mongo, mysql, redis, tcp, tls, udp",
		" (e.g. ", port_example(p), "), or set spec.ports[", format_int(i, 10), "].appProtocol",
	]),
	"details": {"field": concat("", ["spec.ports[", format_int(i, 10), "]"]), "port": object.get(p, "port", null)},
} if {
	group_kind == "/Service"
	spec_changed
	ports := object.get(spec, "ports", [])
	is_array(ports)
	some i, p in ports
	is_object(p)
	not port_protocol_declared(p)
}

port_label(p) := format_int(p.port, 10) if is_number(p.port)

else := "?"

port_problem(p) := concat("", ["is named ", quote(p.name), " without a protocol prefix"]) if {
	is_string(p.name)
	count(p.name) > 0
} else := "has no name and no appProtocol"

port_example(p) := concat("", ["http-", p.name]) if {
	is_string(p.name)
	count(p.name) > 0
} else := "http-web"
