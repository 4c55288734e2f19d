package portcullis.authz_test

import rego.v1

import data.portcullis.authz

envoy_only := object.remove(request, ["mesh"])

test_identity_from_attributes_without_mesh if {
	authz.source_principal == "spiffe://cluster.local/ns/shop/sa/web" with input as envoy_only
	authz.source_trust_domain == "cluster.local" with input as envoy_only
	authz.source_namespace == "shop" with input as envoy_only
	authz.source_service_account == "web" with input as envoy_only
	authz.source_ip == "10.0.0.5" with input as envoy_only
	authz.destination_namespace == "shop" with input as envoy_only
	authz.destination_service_account == "orders" with input as envoy_only
}

test_destination_identity_from_attributes_when_mesh_lacks_it if {
	inp := with_mesh({"destination": {"principal": null, "namespace": null, "service_account": null}})
	authz.destination_principal == "spiffe://cluster.local/ns/shop/sa/orders" with input as inp
	authz.destination_namespace == "shop" with input as inp
}

test_destination_identity_parsed_from_mesh_principal if {
	inp := with_mesh({"destination": {"principal": "spiffe://cluster.local/ns/billing/sa/ledger", "namespace": null, "service_account": null}})
	authz.destination_namespace == "billing" with input as inp
	authz.destination_service_account == "ledger" with input as inp
}

test_mesh_facts_take_precedence if {
	inp := with_mesh({"source": {"ip": "198.51.100.1", "namespace": "elsewhere"}})
	authz.source_ip == "198.51.100.1" with input as inp
	authz.source_namespace == "elsewhere" with input as inp
}

test_empty_mesh_principal_means_no_identity if {
	inp := with_mesh({"source": {"principal": ""}})
	not authz.source_principal with input as inp
}

test_identity_parts_from_principal_when_mesh_omits_them if {
	inp := object.union(envoy_only, {"mesh": {"source": {"principal": "spiffe://td.test/ns/a/sa/b"}}})
	authz.source_trust_domain == "td.test" with input as inp
	authz.source_namespace == "a" with input as inp
	authz.source_service_account == "b" with input as inp
}

test_non_spiffe_principal_has_no_parts if {
	inp := object.union(envoy_only, {"mesh": {"source": {"principal": "CN=legacy"}}})
	authz.source_principal == "CN=legacy" with input as inp
	not authz.source_trust_domain with input as inp
	not authz.source_namespace with input as inp
}

test_destination_service_order if {
	authz.destination_service == "orders" with input as request
	no_service := with_mesh({"destination": {"service": ""}})
	authz.destination_service == "orders" with input as no_service
	pinned := object.union(no_service, {"attributes": {"context_extensions": {"service": "pinned"}}})
	authz.destination_service == "pinned" with input as pinned
	pinned_protojson := object.union(no_service, {"attributes": {"contextExtensions": {"service": "pinned-camel"}}})
	authz.destination_service == "pinned-camel" with input as pinned_protojson
	k8s_name := with_mesh({"destination": {"service": "", "labels": {"app": null, "app.kubernetes.io/name": "orders-api"}}})
	authz.destination_service == "orders-api" with input as k8s_name
	authz.destination_service == "orders" with input as envoy_only
}

test_host_service_strips_domain_and_port if {
	inp := object.union(envoy_only, {"attributes": {"request": {"http": {"host": "Payment-Service.payments.svc:8080"}}}})
	authz.destination_service == "payment-service" with input as inp
	authority := object.union(envoy_only, {"attributes": {"request": {"http": {"host": ""}}}})
	authz.destination_service == "orders" with input as authority
}

test_path_from_parsed_path_when_raw_path_absent if {
	inp := object.union(object.remove(request, ["attributes"]), {"parsed_path": ["v1", "x"]})
	authz.request_path == "/v1/x" with input as inp
}

test_source_ip_from_protojson_socket_address if {
	inp := {"attributes": {"source": {"address": {"socketAddress": {"address": "10.1.2.3", "portValue": 5000}}}}}
	authz.source_ip == "10.1.2.3" with input as inp
	snake := {"attributes": {"source": {"address": {"socket_address": {"address": "10.1.2.4"}}}}}
	authz.source_ip == "10.1.2.4" with input as snake
}
