package portcullis.authz_test

import rego.v1

plaintext := with_mesh({"source": {"principal": "", "trust_domain": "", "namespace": "shop", "service_account": ""}})

strict(mode) := {"securityPolicies": [object.union(global_policy("allow", []), {"authentication": {"mutualTLS": mode}})]}

test_strict_mtls_denies_without_identity if {
	d := decide(plaintext, strict("strict"))
	d.http_status == 403
	d.reason == "mTLS required by global policy: no verified SPIFFE identity"
	decide(plaintext, strict("STRICT")).http_status == 403
}

test_strict_mtls_needs_a_spiffe_identity if {
	legacy := with_mesh({"source": {"principal": "CN=legacy-client,O=example", "trust_domain": "", "namespace": ""}})
	decide(legacy, strict("strict")).reason == "mTLS required by global policy: no verified SPIFFE identity"
	decide(legacy, strict("permissive")).allowed
}

test_strict_mtls_allows_verified_identity if {
	decide(request, strict("strict")).allowed
}

test_permissive_mtls_lets_plaintext_reach_rules if {
	decide(plaintext, strict("permissive")).reason == "default action allow"
	decide(plaintext, strict("disable")).allowed
}

test_plaintext_has_no_identity_for_rules if {
	# The namespace fact alone is not an identity: rules on principal never match plaintext.
	refused_by([cond("source.principal", ["*"])], plaintext)
	refused_by([cond("source.trust_domain", ["cluster.local"])], plaintext)
}

test_service_encryption_required if {
	sec := orders_policies([{"name": "pci", "encryption": "required"}])
	d := decide(plaintext, sec)
	d.reason == "mTLS required by orders (policy pci): no verified SPIFFE identity"
	decide(request, sec).allowed
}
