package portcullis.admission_test

import rego.v1

service(ports) := {
	"apiVersion": "v1",
	"kind": "Service",
	"metadata": {"name": "payments", "namespace": "team"},
	"spec": {"selector": {"app": "payments"}, "ports": ports},
}

test_protocol_prefixed_names_allowed if {
	names := ["http", "http-web", "http2", "https-api", "grpc", "grpc-web", "grpc-web-ui", "tcp-db", "tls", "mongo", "mysql-primary", "redis", "udp-dns", "HTTP-Upper"]
	clean(create(service([{"name": n, "port": 8000 + i} | some i, n in names])))
}

test_app_protocol_allowed if clean(create(service([{"name": "web", "port": 80, "appProtocol": "http"}])))

test_unprefixed_name_denied if {
	inp := create(service([{"name": "http", "port": 80}, {"name": "web", "port": 8080}]))
	only(inp, "service-port-protocol")
	messages(inp, "service-port-protocol") == {"Service port 8080 (spec.ports[1]) is named \"web\" without a protocol prefix: name it <protocol>[-<suffix>] with protocol one of grpc, grpc-web, http, http2, https, mongo, mysql, redis, tcp, tls, udp (e.g. http-web), or set spec.ports[1].appProtocol"}
}

test_prefix_must_be_a_whole_segment if only(create(service([{"name": "httpd", "port": 80}])), "service-port-protocol")

test_unnamed_port_denied if {
	inp := create(service([{"port": 80, "targetPort": 8080}]))
	messages(inp, "service-port-protocol") == {"Service port 80 (spec.ports[0]) has no name and no appProtocol: name it <protocol>[-<suffix>] with protocol one of grpc, grpc-web, http, http2, https, mongo, mysql, redis, tcp, tls, udp (e.g. http-web), or set spec.ports[0].appProtocol"}
}

test_empty_app_protocol_does_not_count if only(create(service([{"name": "web", "port": 80, "appProtocol": ""}])), "service-port-protocol")

test_service_without_ports_allowed if {
	clean(create(object.union(service([]), {"spec": {"type": "ExternalName", "externalName": "db.example.com"}})))
}

test_service_status_update_not_rechecked if {
	old := service([{"name": "web", "port": 80}])
	clean(update(old, object.union(old, {"status": {"loadBalancer": {}}})))
}

test_port_without_number_still_reported if {
	inp := create(service([{"name": "web", "targetPort": 8080}]))
	{v.details.port | some v in violations(inp)} == {null}
	some msg in messages(inp, "service-port-protocol")
	startswith(msg, "Service port ? (spec.ports[0]) is named \"web\"")
}
