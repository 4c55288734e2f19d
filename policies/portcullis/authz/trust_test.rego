package portcullis.authz_test

import rego.v1

import data.portcullis.authz

# shop/web calling shop/orders from another cluster's trust domain.
from_domain(td) := with_mesh({"source": {
	"principal": concat("", ["spiffe://", td, "/ns/shop/sa/web"]),
	"trust_domain": td,
}})

same_namespace_only := security("deny", [{"name": "same-ns", "action": "allow", "conditions": [cond("source.namespace", ["{{ destination.namespace }}"])]}])

test_own_trust_domain if {
	authz.trust_level == "own" with input as request with data.portcullis.trust as trust_data
	decide(request, same_namespace_only).allowed
}

test_untrusted_domain_denied_before_rules if {
	d := decide(from_domain("evil.test"), security("allow", [{"name": "all", "action": "allow"}]))
	d.http_status == 403
	d.reason == "trust domain evil.test is not trusted by cluster production-us-west"
}

test_untrusted_without_a_cluster_name if {
	inp := object.union(from_domain("evil.test"), {"mesh": {"cluster": {"name": null}}})
	d := authz.decision with input as inp with data.portcullis.config as {} with data.portcullis.security as security("allow", [])
	d.reason == "trust domain evil.test is not trusted by cluster (unnamed)"
}

test_cluster_without_trust_pair_is_untrusted if {
	decide(from_domain("partner.test"), security("allow", [])).reason == "trust domain partner.test is not trusted by cluster production-us-west"
}

test_full_trust_is_like_our_own if {
	authz.trust_level == "full" with input as from_domain("us-east.mesh.test") with data.portcullis.trust as trust_data
	decide(from_domain("us-east.mesh.test"), same_namespace_only).reason == "allow rule g/same-ns"
	decide(from_domain("us-east.mesh.test"), security("allow", [])).allowed
}

test_trust_pairs_read_both_ways if {
	# trust_data lists production-eu-west as cluster1 and us as cluster2.
	authz.trust_level == "limited" with input as from_domain("eu-west.mesh.test") with data.portcullis.trust as trust_data
}

test_trust_seen_from_the_other_cluster if {
	at_us_east := with_mesh({"cluster": {"name": "production-us-east", "trustDomain": "us-east.mesh.test"}, "source": {
		"principal": "spiffe://cluster.local/ns/shop/sa/web",
	}})
	authz.trust_level == "full" with input as at_us_east with data.portcullis.trust as trust_data
	at_eu := with_mesh({"cluster": {"name": "production-eu-west", "trustDomain": "eu-west.mesh.test"}, "source": {
		"principal": "spiffe://us-east.mesh.test/ns/shop/sa/web",
		"trust_domain": "us-east.mesh.test",
	}})
	authz.trust_level == "untrusted" with input as at_eu with data.portcullis.trust as trust_data
}

test_limited_trust_never_gets_same_namespace_or_default_allow if {
	limited := from_domain("eu-west.mesh.test")
	decide(limited, same_namespace_only).reason == "limited trust: no rule explicitly allows trust domain eu-west.mesh.test"
	decide(limited, security("allow", [])).reason == "limited trust: no rule explicitly allows trust domain eu-west.mesh.test"
	decide(limited, security("deny", [{"name": "open", "action": "allow"}])).allowed == false
}

test_limited_trust_allowed_by_explicit_trust_domain_rule if {
	limited := from_domain("eu-west.mesh.test")
	sec := security("deny", [{"name": "eu-reads", "action": "allow", "conditions": [
		cond("source.trust_domain", ["eu-west.mesh.test"]),
		cond("request.method", ["GET"]),
	]}])
	decide(limited, sec).reason == "allow rule g/eu-reads"
	post := object.union(limited, {"attributes": {"request": {"http": {"method": "POST"}}}})
	not decide(post, sec).allowed
}

test_limited_trust_allowed_by_explicit_principal_rule if {
	limited := from_domain("eu-west.mesh.test")
	exact := security("deny", [{"name": "eu-web", "action": "allow", "conditions": [cond("source.principal", ["spiffe://eu-west.mesh.test/ns/shop/sa/web"])]}])
	decide(limited, exact).allowed
	prefix := security("deny", [{"name": "eu-any", "action": "allow", "conditions": [cond("source.principal", ["spiffe://eu-west.mesh.test/*"])]}])
	decide(limited, prefix).allowed
	templated := security("deny", [{"name": "tpl", "action": "allow", "conditions": [cond("source.principal", ["spiffe://{{ source.trust_domain }}/ns/shop/sa/web"])]}])
	not decide(limited, templated).allowed
	wildcard := security("deny", [{"name": "any", "action": "allow", "conditions": [cond("source.principal", ["*"])]}])
	not decide(limited, wildcard).allowed
}

test_limited_trust_still_hits_deny_rules if {
	limited := from_domain("eu-west.mesh.test")
	sec := security("deny", [
		{"name": "eu", "action": "allow", "conditions": [cond("source.trust_domain", ["eu-west.mesh.test"])]},
		{"name": "no-api", "action": "deny", "conditions": [cond("request.path", ["/api/*"])]},
	])
	decide(limited, sec).reason == "deny rule g/no-api"
}

test_weakest_trust_for_a_shared_trust_domain if {
	shared := {
		"clusters": [
			{"name": "production-us-west", "trustDomain": "cluster.local"},
			{"name": "a", "trustDomain": "shared.test"},
			{"name": "b", "trustDomain": "shared.test"},
		],
		"trust": [
			{"cluster1": "production-us-west", "cluster2": "a", "trustLevel": "full"},
			{"cluster1": "production-us-west", "cluster2": "b", "trustLevel": "limited"},
		],
	}
	authz.trust_level == "limited" with input as from_domain("shared.test") with data.portcullis.trust as shared
}

test_own_trust_domain_from_data_when_input_has_none if {
	bare := object.union(object.remove(request, ["mesh"]), {"mesh": {
		"cluster": {"name": "production-us-east"},
		"source": {"principal": "spiffe://us-east.mesh.test/ns/shop/sa/web"},
	}})
	authz.own_trust_domain == "us-east.mesh.test" with input as bare with data.portcullis.trust as trust_data
	authz.trust_level == "own" with input as bare with data.portcullis.trust as trust_data
}

test_own_cluster_from_config_data if {
	inp := object.remove(request, ["mesh"])
	authz.own_cluster == "standalone" with input as inp
		with data.portcullis.config as {"cluster": {"name": "standalone", "trustDomain": "cluster.local"}}
	authz.trust_level == "own" with input as inp
		with data.portcullis.config as {"cluster": {"name": "standalone", "trustDomain": "cluster.local"}}
		with data.portcullis.trust as {}
}

test_no_identity_is_trust_level_none if {
	plain := with_mesh({"source": {"principal": "", "trust_domain": ""}})
	authz.trust_level == "none" with input as plain
}
