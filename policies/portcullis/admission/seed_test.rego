# The Istio examples of the product description as they would reach the webhook.
package portcullis.admission_test

import rego.v1

seed_peer_authentication := {
	"apiVersion": "security.istio.io/v1beta1",
	"kind": "PeerAuthentication",
	"metadata": {"name": "microservice-mtls", "namespace": "team"},
	"spec": {"selector": {"matchLabels": {"app": "microservice"}}, "mtls": {"mode": "STRICT"}},
}

seed_authorization_policy := {
	"apiVersion": "security.istio.io/v1beta1",
	"kind": "AuthorizationPolicy",
	"metadata": {"name": "microservice-access", "namespace": "team"},
	"spec": {
		"selector": {"matchLabels": {"app": "microservice"}},
		"rules": [
			{"key": "request.headers[authorization]", "values": ["Bearer *"]},
			{"key": "source.ip", "values": ["10.0.0.0/8"]},
		],
	},
}

seed_destination_rule := {
	"apiVersion": "networking.istio.io/v1beta1",
	"kind": "DestinationRule",
	"metadata": {"name": "microservice-resilience", "namespace": "team"},
	"spec": {
		"host": "microservice",
		"trafficPolicy": {
			"tls": {"mode": "ISTIO_MUTUAL"},
			"connectionPool": {"tcp": {"maxConnections": 100, "connectTimeout": "30ms"}, "http": {"http1MaxPendingRequests": 10, "http2MaxRequests": 50}},
			"outlierDetection": {"consecutive5xxErrors": 5, "interval": "30s", "baseEjectionTime": "30s", "maxEjectionPercent": 50},
		},
	},
}

test_seed_peer_authentication_passes if {
	clean(create(seed_peer_authentication))
	clean(create_in_mesh(seed_peer_authentication))
}

test_seed_destination_rule_passes if clean(create_in_mesh(seed_destination_rule))

test_seed_authorization_policy_rejected_with_the_reason if {
	inp := create_in_mesh(seed_authorization_policy)
	only(inp, "object-schema")
	messages(inp, "object-schema") == {
		"AuthorizationPolicy spec.rules[0] uses unknown fields key/values, which Istio ignores: a rule holds only from, to and when, and conditions such as key/values belong under when, e.g. spec.rules[0]: {when: [{key: request.headers[authorization], values: [...]}]}",
		"AuthorizationPolicy spec.rules[1] uses unknown fields key/values, which Istio ignores: a rule holds only from, to and when, and conditions such as key/values belong under when, e.g. spec.rules[1]: {when: [{key: source.ip, values: [...]}]}",
	}
	every v in violations(inp) {
		v.enforcement == "deny"
		v.details.unknownFields == ["key", "values"]
	}
}

test_seed_authorization_policy_fixed_as_suggested_passes if {
	fixed := object.union(seed_authorization_policy, {"spec": {"rules": [{"when": [
		{"key": "request.headers[authorization]", "values": ["Bearer *"]},
		{"key": "source.ip", "values": ["10.0.0.0/8"]},
	]}]}})
	clean(create_in_mesh(fixed))
}
