package portcullis.authz_test

import rego.v1

import data.portcullis.authz

jwt_required := orders_policies([{"name": "authn", "jwtValidation": true, "tokenExpiry": "1h"}])

test_missing_token_is_401_with_challenge if {
	d := decide(request, jwt_required)
	d == {
		"allowed": false,
		"http_status": 401,
		"reason": "JWT required by orders (policy authn): missing",
		"headers": {"content-type": "text/plain", "www-authenticate": `Bearer realm="portcullis"`},
		"body": "authentication required",
	}
}

test_invalid_token_is_401_invalid_token if {
	some error in ["expired", "bad_signature", "unknown_kid", "wrong_audience"]
	d := decide(with_mesh({"jwt": {"verified": false, "error": error}}), jwt_required)
	d.http_status == 401
	d.reason == concat("", ["JWT required by orders (policy authn): ", error])
	d.headers["www-authenticate"] == `Bearer realm="portcullis", error="invalid_token"`
}

test_every_invalid_reason_is_refused if {
	every error in ["expired", "bad_signature", "unknown_kid", "wrong_audience", "missing"] {
		decide(with_mesh({"jwt": {"verified": false, "error": error}}), jwt_required).http_status == 401
	}
}

test_no_jwt_facts_at_all_is_missing if {
	inp := object.remove(request, ["mesh"])
	decide(inp, jwt_required).reason == "JWT required by orders (policy authn): missing"
}

test_verified_token_within_lifetime_allowed if {
	d := decide(verified_jwt({"sub": "alice", "iat": 1700000000, "exp": 1700003600}), jwt_required)
	d == {"allowed": true, "reason": "default action allow"}
}

test_token_lifetime_beyond_token_expiry_refused if {
	d := decide(verified_jwt({"sub": "alice", "iat": 1700000000, "exp": 1700003601}), jwt_required)
	d.http_status == 401
	d.reason == "JWT rejected by orders (policy authn): token lifetime 3601s exceeds tokenExpiry 3600s"
	d.headers["www-authenticate"] == `Bearer realm="portcullis", error="invalid_token"`
}

test_token_without_iat_or_exp_refused_when_lifetime_bounded if {
	decide(verified_jwt({"sub": "alice", "exp": 1700003600}), jwt_required).reason == "JWT rejected by orders (policy authn): token has no iat claim, its lifetime is unknown"
	decide(verified_jwt({"sub": "alice", "iat": 1700000000}), jwt_required).reason == "JWT rejected by orders (policy authn): token has no exp claim"
}

test_token_lifetime_unbounded_without_token_expiry if {
	sec := orders_policies([{"name": "authn", "jwtValidation": true}])
	decide(verified_jwt({"sub": "alice", "iat": 1, "exp": 99999999999}), sec).allowed
}

test_token_expiry_applies_to_presented_tokens_even_when_not_required if {
	sec := orders_policies([{"name": "lifetime", "tokenExpiry": "30m"}])
	decide(request, sec).allowed
	decide(verified_jwt({"iat": 0, "exp": 1800}), sec).allowed
	decide(verified_jwt({"iat": 0, "exp": 1801}), sec).http_status == 401
}

test_strictest_token_expiry_applies if {
	sec := orders_policies([
		{"name": "long", "jwtValidation": true, "tokenExpiry": "24h"},
		{"name": "short", "tokenExpiry": "15m"},
	])
	decide(verified_jwt({"iat": 0, "exp": 3600}), sec).reason == "JWT rejected by orders (policy short): token lifetime 3600s exceeds tokenExpiry 900s"
}

test_jwt_policy_of_another_service_does_not_apply if {
	sec := {"securityPolicies": [
		global_policy("allow", []),
		{"name": "svc", "scope": "service", "services": [{"name": "user-service", "policies": [{"jwtValidation": true}]}]},
	]}
	decide(request, sec).allowed
}

test_jwt_checked_before_rules if {
	sec := {"securityPolicies": [
		global_policy("deny", [{"name": "no", "action": "deny"}]),
		{"name": "svc", "scope": "service", "services": [{"name": "orders", "policies": [{"name": "authn", "jwtValidation": true}]}]},
	]}
	decide(from_other_namespace, sec).http_status == 401
	decide(verified_jwt({"sub": "alice"}), sec).reason == "deny rule g/no"
}

test_durations if {
	authz.duration_seconds("1h") == 3600
	authz.duration_seconds("30m") == 1800
	authz.duration_seconds("1h30m") == 5400
	authz.duration_seconds("45s") == 45
	authz.duration_seconds("7d") == 604800
	authz.duration_seconds(600) == 600
	not authz.duration_seconds("1 hour")
	not authz.duration_seconds("h")
	not authz.duration_seconds("0h")
	not authz.duration_seconds("-1h")
	not authz.duration_seconds(0)
	not authz.duration_seconds(true)
}
