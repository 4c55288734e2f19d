package portcullis.authz_test

import rego.v1

test_rate_limit_per_caller if {
	d := decide(request, orders_policies([{"name": "rl", "requestsPerMinute": 1000, "burstLimit": 100}]))
	d == {
		"allowed": true,
		"reason": "default action allow",
		"rate_limit": {"key": "orders:spiffe://cluster.local/ns/shop/sa/web", "requests_per_minute": 1000, "burst": 100},
	}
}

test_rate_limit_key_by_ip_without_identity if {
	inp := with_mesh({"source": {"principal": "", "ip": "203.0.113.7"}})
	decide(inp, orders_policies([{"requestsPerMinute": 60}])).rate_limit.key == "orders:ip:203.0.113.7"
	anon := with_mesh({"source": {"principal": "", "ip": ""}})
	no_socket := object.remove(anon, ["attributes"])
	decide(no_socket, orders_policies([{"requestsPerMinute": 60}])).rate_limit.key == "orders:anonymous"
}

test_default_burst_is_one_second_of_rate if {
	decide(request, orders_policies([{"requestsPerMinute": 600}])).rate_limit.burst == 10
	decide(request, orders_policies([{"requestsPerMinute": 90}])).rate_limit.burst == 2
	decide(request, orders_policies([{"requestsPerMinute": 10}])).rate_limit.burst == 1
}

test_strictest_rate_limit_wins if {
	d := decide(request, orders_policies([
		{"requestsPerMinute": 1000, "burstLimit": 100},
		{"requestsPerMinute": 300, "burstLimit": 50},
		{"requestsPerMinute": 300, "burstLimit": 20},
	]))
	d.rate_limit == {"key": "orders:spiffe://cluster.local/ns/shop/sa/web", "requests_per_minute": 300, "burst": 20}
}

test_no_rate_limit_without_policy if {
	d := decide(request, orders_policies([{"name": "authn", "jwtValidation": false}]))
	d.allowed
	not d.rate_limit
}

test_no_rate_limit_on_denial if {
	sec := {"securityPolicies": [
		global_policy("deny", []),
		{"name": "svc", "scope": "service", "services": [{"name": "orders", "policies": [{"requestsPerMinute": 5}]}]},
	]}
	d := decide(from_other_namespace, sec)
	not d.allowed
	not d.rate_limit
}

test_rate_limit_only_for_destination_service if {
	inp := with_mesh({"destination": {"service": "payment-service"}})
	d := decide(inp, data.portcullis.security)
	d.rate_limit == {"key": "payment-service:spiffe://cluster.local/ns/shop/sa/web", "requests_per_minute": 1000, "burst": 100}
	not decide(request, data.portcullis.security).rate_limit
}
