package portcullis.authz_test

import rego.v1

test_source_namespace if {
	allowed_by([cond("source.namespace", ["shop"])], request)
	refused_by([cond("source.namespace", ["other"])], request)
}

test_source_service_account if {
	allowed_by([cond("source.service_account", ["web"])], request)
	refused_by([cond("source.service_account", ["orders"])], request)
}

test_source_principal if {
	allowed_by([cond("source.principal", ["spiffe://cluster.local/ns/shop/sa/web"])], request)
	refused_by([cond("source.principal", ["spiffe://cluster.local/ns/shop/sa/other"])], request)
}

test_source_trust_domain if {
	allowed_by([cond("source.trust_domain", ["cluster.local"])], request)
	refused_by([cond("source.trust_domain", ["us-east.mesh.test"])], request)
}

test_source_labels if {
	allowed_by([cond("source.labels[app]", ["prometheus", "web"])], request)
	refused_by([cond("source.labels[app]", ["prometheus", "grafana"])], request)
	refused_by([cond("source.labels[missing]", ["web"])], request)
}

test_source_namespace_labels if {
	allowed_by([cond("source.namespace_labels[team]", ["storefront"])], request)
	refused_by([cond("source.namespace_labels[team]", ["payments"])], request)
}

test_source_region_and_country if {
	allowed_by([cond("source.region", ["us-west"]), cond("source.country", ["internal"])], request)
	refused_by([cond("source.region", ["eu-west"])], request)
	refused_by([cond("source.country", ["DE"])], request)
}

test_source_ip_exact_and_cidr if {
	allowed_by([cond("source.ip", ["10.0.0.5"])], request)
	allowed_by([cond("source.ip", ["192.168.0.0/16", "10.0.0.0/8"])], request)
	refused_by([cond("source.ip", ["192.168.0.0/16"])], request)
	refused_by([cond("source.ip", ["not-a-cidr/8"])], request)
}

test_destination_keys if {
	allowed_by([cond("destination.namespace", ["shop"]), cond("destination.service", ["orders"])], request)
	allowed_by([cond("destination.service_account", ["orders"]), cond("destination.labels[tier]", ["backend"])], request)
	refused_by([cond("destination.service", ["payment-service"])], request)
	refused_by([cond("destination.namespace", ["payments"])], request)
}

test_request_method if {
	allowed_by([cond("request.method", ["GET", "HEAD"])], request)
	refused_by([cond("request.method", ["POST"])], request)
	refused_by([cond("request.method", ["get"])], request)
}

test_request_path_exact_ignores_query if {
	allowed_by([cond("request.path", ["/api/items"])], request)
	refused_by([cond("request.path", ["/api/items?limit=5"])], request)
	refused_by([cond("request.path", ["/api"])], request)
}

test_request_path_prefix if {
	allowed_by([cond("request.path", ["/api/*"])], request)
	allowed_by([cond("request.path", ["*"])], request)
	refused_by([cond("request.path", ["/admin/*"])], request)
}

test_query_cannot_satisfy_a_path_prefix if {
	inp := with_http({"path": "/public?x=/api/items"})
	refused_by([cond("request.path", ["/api/*"])], inp)
}

test_suffix_wildcard if {
	allowed_by([cond("source.principal", ["*/sa/web"])], request)
	refused_by([cond("source.principal", ["*/sa/admin"])], request)
}

test_numbers_in_policy_compare_as_text if {
	inp := with_http({"headers": {"x-version": "2"}})
	allowed_by([cond("request.headers[x-version]", [2])], inp)
	refused_by([cond("request.headers[x-version]", [3])], inp)
}

test_request_headers_case_insensitive_name if {
	allowed_by([cond("request.headers[X-Tenant]", ["acme"])], request)
	allowed_by([cond("request.headers[x-tenant]", ["ac*"])], request)
	refused_by([cond("request.headers[x-tenant]", ["other"])], request)
	refused_by([cond("request.headers[x-absent]", ["*"])], request)
}

test_jwt_claims_only_when_verified if {
	inp := verified_jwt({"sub": "alice", "groups": ["staff", "ops"], "admin": true, "level": 3})
	allowed_by([cond("jwt.claims[sub]", ["alice"])], inp)
	allowed_by([cond("jwt.claims[groups]", ["ops"])], inp)
	allowed_by([cond("jwt.claims[admin]", [true])], inp)
	allowed_by([cond("jwt.claims[admin]", ["true"])], inp)
	allowed_by([cond("jwt.claims[level]", [3])], inp)
	allowed_by([cond("jwt.claims[level]", ["3"])], inp)
	allowed_by([cond("jwt.claims[sub]", ["ali*"])], inp)
	refused_by([cond("jwt.claims[level]", [4])], inp)
	refused_by([cond("jwt.claims[groups]", ["root"])], inp)
	refused_by([cond("jwt.claims[sub]", ["bob"])], inp)
	unverified := with_mesh({"jwt": {"verified": false, "error": "bad_signature", "claims": {"sub": "alice"}}})
	refused_by([cond("jwt.claims[sub]", ["alice"])], unverified)
}

test_every_condition_must_match if {
	shop := cond("source.namespace", ["shop"])
	get := cond("request.method", ["GET"])
	api := cond("request.path", ["/api/*"])
	web := cond("source.labels[app]", ["web"])
	post := cond("request.method", ["POST"])
	allowed_by([shop, get], request)
	refused_by([shop, post], request)
	allowed_by([shop, get, api], request)
	refused_by([post, get, api], request)
	refused_by([shop, post, api], request)
	refused_by([shop, get, post], request)
	allowed_by([shop, get, api, web], request)
	refused_by([shop, get, api, web, post], request)
	refused_by([post, shop, get, api, web], request)
}

test_template_same_namespace if {
	allowed_by([cond("source.namespace", ["{{ destination.namespace }}"])], request)
	refused_by([cond("source.namespace", ["{{ destination.namespace }}"])], from_other_namespace)
}

test_template_without_spaces_and_inside_text if {
	allowed_by([cond("source.namespace", ["{{destination.namespace}}"])], request)
	allowed_by([cond("source.principal", ["spiffe://cluster.local/ns/{{ destination.namespace }}/sa/web"])], request)
	allowed_by([cond("source.principal", ["spiffe://{{ source.trust_domain }}/ns/{{ destination.namespace }}/*"])], request)
	refused_by([cond("source.principal", ["spiffe://cluster.local/ns/{{ destination.namespace }}/sa/admin"])], request)
}

test_template_with_missing_fact_never_matches if {
	refused_by([cond("source.namespace", ["{{ request.headers[x-absent] }}"])], request)
	refused_by([cond("source.namespace", ["{{ destination.namespace "])], request)
}

test_template_value_is_never_a_wildcard if {
	inp := with_http({"headers": {"x-ns": "*"}})
	refused_by([cond("source.namespace", ["{{ request.headers[x-ns] }}"])], inp)
	inp2 := with_http({"headers": {"x-ns": "shop"}})
	allowed_by([cond("source.namespace", ["{{ request.headers[x-ns] }}"])], inp2)
}

test_missing_fact_never_matches if {
	inp := with_mesh({"source": {"labels": null}})
	refused_by([cond("source.labels[app]", ["web"])], inp)
}

test_rule_without_conditions_matches_everything if {
	decide(from_other_namespace, security("deny", [{"name": "open", "action": "allow"}])).allowed
	decide(from_other_namespace, security("deny", [{"name": "open", "action": "allow", "conditions": []}])).allowed
	decide(from_other_namespace, security("deny", [{"name": "open", "action": "allow", "conditions": null}])).allowed
	not decide(request, security("allow", [{"name": "closed", "action": "deny"}])).allowed
}
