# The fixture CheckRequest (test/fixtures/authz/check-jwt-mtls.json) as opa-envoy-plugin
# renders it, plus the facts Portcullis gathers, against the shipped seed policies.
package portcullis.authz_test

import rego.v1

import data.portcullis.authz

check_request := {
	"attributes": {
		"source": {
			"address": {"socket_address": {"address": "10.44.1.17", "port_value": 51234}},
			"principal": "spiffe://cluster.local/ns/frontend/sa/web",
		},
		"destination": {
			"address": {"socket_address": {"address": "10.44.3.9", "port_value": 8080}},
			"principal": "spiffe://cluster.local/ns/payments/sa/payment-service",
		},
		"request": {
			"time": "2026-11-24T10:15:30.123456Z",
			"http": {
				"id": "13359530607844510314",
				"method": "POST",
				"headers": {
					":authority": "payment-service.payments.svc.cluster.local:8080",
					":method": "POST",
					":path": "/api/v1/charges?currency=EUR&dry_run=false",
					":scheme": "http",
					"authorization": "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
					"content-type": "application/json",
					"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36",
					"x-forwarded-for": "203.0.113.77, 10.44.0.5",
					"x-forwarded-proto": "https",
					"x-request-id": "6f0b2c1e-9d7a-4e55-8a3c-1b2d3e4f5a6b",
					"x-b3-traceid": "80f198ee56343ba864fe8b2a57d3eff7",
					"x-envoy-attempt-count": "1",
				},
				"path": "/api/v1/charges?currency=EUR&dry_run=false",
				"host": "payment-service.payments.svc.cluster.local:8080",
				"scheme": "http",
				"protocol": "HTTP/1.1",
				"size": "57",
				"body": "{\"amount\": 1250, \"currency\": \"EUR\", \"customer\": \"c_8812\"}",
			},
		},
		"context_extensions": {"virtual_host": "payment-service"},
		"metadata_context": {},
	},
	"parsed_path": ["api", "v1", "charges"],
	"parsed_query": {"currency": ["EUR"], "dry_run": ["false"]},
	"parsed_body": {"amount": 1250, "currency": "EUR", "customer": "c_8812"},
	"truncated_body": false,
	"version": {"encoding": "protojson", "ext_authz": "v3"},
}

mesh_facts := {
	"jwt": {
		"verified": true,
		"issuer": "https://issuer.portcullis.test",
		"claims": {
			"iss": "https://issuer.portcullis.test",
			"sub": "user-8812",
			"aud": "payment-service",
			"scope": "charges:write",
			"roles": ["customer"],
			"iat": 1795515300,
			"exp": 1795518900,
		},
	},
	"source": {
		"principal": "spiffe://cluster.local/ns/frontend/sa/web",
		"trust_domain": "cluster.local",
		"namespace": "frontend",
		"service_account": "web",
		"ip": "10.44.1.17",
		"labels": {"app": "web", "version": "v3"},
		"namespace_labels": {"kubernetes.io/metadata.name": "frontend"},
		"region": "us-west",
		"country": "internal",
	},
	"destination": {
		"principal": "spiffe://cluster.local/ns/payments/sa/payment-service",
		"trust_domain": "cluster.local",
		"namespace": "payments",
		"service_account": "payment-service",
		"service": "payment-service",
		"labels": {"app": "payment-service"},
		"region": "us-west",
	},
	"cluster": {"name": "standalone", "trustDomain": "cluster.local"},
}

fixture_input := object.union(check_request, {"mesh": mesh_facts})

# The shipped seed policies plus the rule an operator would add for this call.
charges_rule := {
	"name": "frontend-creates-charges",
	"action": "allow",
	"conditions": [
		cond("source.principal", ["spiffe://cluster.local/ns/frontend/sa/web"]),
		cond("destination.service", ["payment-service"]),
		cond("request.method", ["POST"]),
		cond("request.path", ["/api/v1/charges*"]),
		cond("jwt.claims[scope]", ["charges:write"]),
	],
}

seed_with(rule) := {"securityPolicies": [
	object.union(zero_trust, {"authorization": {"rules": array.concat(zero_trust.authorization.rules, [rule])}}),
	data.portcullis.security.securityPolicies[1],
]}

zero_trust := data.portcullis.security.securityPolicies[0]

shipped(inp) := d if {
	d := authz.decision with input as inp
}

under(inp, sec) := d if {
	d := authz.decision with input as inp with data.portcullis.security as sec
}

test_fixture_cross_namespace_denied_by_seed_default if {
	shipped(fixture_input) == {
		"allowed": false,
		"http_status": 403,
		"reason": "default action deny",
		"headers": {"content-type": "text/plain"},
		"body": "access denied",
	}
}

test_fixture_allowed_by_operator_rule_with_rate_limit if {
	d := authz.decision with input as fixture_input with data.portcullis.security as seed_with(charges_rule)
	d == {
		"allowed": true,
		"reason": "allow rule zero-trust-default/frontend-creates-charges",
		"rate_limit": {
			"key": "payment-service:spiffe://cluster.local/ns/frontend/sa/web",
			"requests_per_minute": 1000,
			"burst": 100,
		},
	}
}

test_fixture_rule_needs_the_claim if {
	no_scope := object.union(fixture_input, {"mesh": {"jwt": {"claims": {"scope": "charges:read"}}}})
	d := authz.decision with input as no_scope with data.portcullis.security as seed_with(charges_rule)
	d.reason == "default action deny"
}

test_fixture_without_mesh_facts_as_opa_envoy_plugin_would_send if {
	# No mesh: identity from Envoy's verified principal, service from the Host header; no JWT facts,
	# so the claim condition cannot match and only identity-based rules apply.
	rule := object.union(charges_rule, {"conditions": [
		cond("source.namespace", ["frontend"]),
		cond("destination.service", ["payment-service"]),
	]})
	d := authz.decision with input as check_request with data.portcullis.security as seed_with(rule)
	d.allowed
	d.rate_limit.key == "payment-service:spiffe://cluster.local/ns/frontend/sa/web"
	not authz.decision.allowed with input as check_request with data.portcullis.security as seed_with(charges_rule)
}

test_fixture_to_user_service_needs_token if {
	to_users := object.union(fixture_input, {"mesh": {
		"jwt": {"verified": false, "error": "expired", "claims": null},
		"destination": {"service": "user-service", "namespace": "users"},
	}})
	d := shipped(to_users)
	d.http_status == 401
	d.reason == "JWT required by user-service (policy authentication-required): expired"
}

test_fixture_to_user_service_token_lifetime if {
	# The fixture token lives exactly one hour: accepted by the seed's tokenExpiry "1h".
	to_users := object.union(fixture_input, {"mesh": {"destination": {"service": "user-service", "namespace": "users"}}})
	shipped(to_users).reason == "default action deny"
	week := object.union(to_users, {"mesh": {"jwt": {"claims": {"exp": 1796120100}}}})
	shipped(week).reason == "JWT rejected by user-service (policy authentication-required): token lifetime 604800s exceeds tokenExpiry 3600s"
}

test_fixture_to_user_service_geo if {
	external := object.union(fixture_input, {"mesh": {
		"destination": {"service": "user-service", "namespace": "users"},
		"source": {"ip": "203.0.113.77", "country": "JP", "region": "ap-northeast"},
	}})
	shipped(external).reason == "geo: source region ap-northeast/JP is not allowed for user-service (policy geo-restriction)"
	us := object.union(external, {"mesh": {"source": {"country": "US", "region": "us-east"}}})
	shipped(us).reason == "default action deny"
}

test_fixture_plaintext_refused_by_strict_mtls if {
	plaintext := object.union(fixture_input, {"mesh": {"source": {"principal": "", "trust_domain": ""}}})
	shipped(plaintext).reason == "mTLS required by global policy: no verified SPIFFE identity"
}

test_fixture_from_untrusted_cluster if {
	foreign := object.union(fixture_input, {"mesh": {"source": {
		"principal": "spiffe://other.test/ns/frontend/sa/web",
		"trust_domain": "other.test",
	}}})
	shipped(foreign).reason == "trust domain other.test is not trusted by cluster standalone"
}

test_answer_shapes if {
	every d in [
		shipped(fixture_input),
		shipped(object.union(fixture_input, {"mesh": {"destination": {"service": "user-service"}, "jwt": {"verified": false}}})),
		under(fixture_input, seed_with(charges_rule)),
	] {
		is_boolean(d.allowed)
		is_string(d.reason)
		object.keys(d) - {"allowed", "http_status", "reason", "headers", "body", "rate_limit"} == set()
	}
}

test_decision_defined_for_empty_input if {
	authz.decision.reason == "mTLS required by global policy: no verified SPIFFE identity" with input as {}
	authz.decision.reason == "mTLS required by global policy: no verified SPIFFE identity" with input as {"mesh": {}}
	authz.decision.reason == "default action deny" with input as {} with data.portcullis.security as security("deny", [])
}
