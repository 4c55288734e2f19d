# Inputs and data shared by the authz tests.
package portcullis.authz_test

import rego.v1

import data.portcullis.authz

# A GET from shop/web to orders in the same namespace of our own cluster, no token.
request := {
	"attributes": {
		"source": {
			"address": {"socket_address": {"address": "10.0.0.5", "port_value": 40000}},
			"principal": "spiffe://cluster.local/ns/shop/sa/web",
		},
		"destination": {
			"address": {"socket_address": {"address": "10.0.1.9", "port_value": 8080}},
			"principal": "spiffe://cluster.local/ns/shop/sa/orders",
		},
		"request": {"http": {
			"method": "GET",
			"path": "/api/items?limit=5",
			"host": "orders.shop.svc.cluster.local:8080",
			"headers": {
				":authority": "orders.shop.svc.cluster.local:8080",
				":method": "GET",
				":path": "/api/items?limit=5",
				"x-tenant": "acme",
			},
		}},
	},
	"parsed_path": ["api", "items"],
	"parsed_query": {"limit": ["5"]},
	"parsed_body": null,
	"truncated_body": false,
	"version": {"encoding": "protojson", "ext_authz": "v3"},
	"mesh": {
		"jwt": {"verified": false, "error": "missing"},
		"source": {
			"principal": "spiffe://cluster.local/ns/shop/sa/web",
			"trust_domain": "cluster.local",
			"namespace": "shop",
			"service_account": "web",
			"ip": "10.0.0.5",
			"labels": {"app": "web", "version": "v2"},
			"namespace_labels": {"team": "storefront"},
			"region": "us-west",
			"country": "internal",
		},
		"destination": {
			"principal": "spiffe://cluster.local/ns/shop/sa/orders",
			"trust_domain": "cluster.local",
			"namespace": "shop",
			"service_account": "orders",
			"service": "orders",
			"labels": {"app": "orders", "tier": "backend"},
			"region": "us-west",
		},
		"cluster": {"name": "production-us-west", "trustDomain": "cluster.local"},
	},
}

# The request from another namespace, so that the same-namespace rule does not decide.
from_other_namespace := object.union(request, {"mesh": {"source": {
	"principal": "spiffe://cluster.local/ns/frontend/sa/web",
	"namespace": "frontend",
}}})

with_mesh(patch) := object.union(request, {"mesh": patch})

with_http(patch) := object.union(request, {"attributes": {"request": {"http": patch}}})

verified_jwt(claims) := with_mesh({"jwt": {"verified": true, "issuer": "https://issuer.test", "claims": claims}})

# One global policy with these rules and default action.
global_policy(default_action, rules) := {
	"name": "g",
	"scope": "global",
	"authorization": {"defaultAction": default_action, "rules": rules},
}

security(default_action, rules) := {"securityPolicies": [global_policy(default_action, rules)]}

# Global allow-all plus service policies for `orders`.
orders_policies(pols) := {"securityPolicies": [
	global_policy("allow", []),
	{"name": "svc", "scope": "service", "services": [{"name": "orders", "policies": pols}]},
]}

trust_data := {
	"clusters": [
		{"name": "production-us-west", "trustDomain": "cluster.local"},
		{"name": "production-us-east", "trustDomain": "us-east.mesh.test"},
		{"name": "production-eu-west", "trustDomain": "eu-west.mesh.test"},
		{"name": "partner", "trustDomain": "partner.test"},
	],
	"trust": [
		{"cluster1": "production-us-west", "cluster2": "production-us-east", "trustLevel": "full"},
		{"cluster1": "production-eu-west", "cluster2": "production-us-west", "trustLevel": "limited"},
	],
}

decide(inp, sec) := d if {
	d := authz.decision with input as inp
		with data.portcullis.security as sec
		with data.portcullis.trust as trust_data
}

# Whether a lone allow rule with these conditions (default deny) lets the request through.
allowed_by(conditions, inp) if lone_allow_rule(conditions, inp) == {"allowed": true, "reason": "allow rule g/r"}

# ... and that it is the default that refuses, not some other step.
refused_by(conditions, inp) if lone_allow_rule(conditions, inp).reason == "default action deny"

lone_allow_rule(conditions, inp) := decide(inp, security("deny", [{"name": "r", "action": "allow", "conditions": conditions}]))

cond(key, values) := {"key": key, "values": values}
