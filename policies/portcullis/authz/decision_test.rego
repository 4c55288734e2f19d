package portcullis.authz_test

import rego.v1

import data.portcullis.authz

test_same_namespace_allowed if {
	authz.decision.allowed with input as {"mesh": {"source": {"namespace": "a"}, "destination": {"namespace": "a"}}}
}

test_other_namespace_denied if {
	not authz.decision.allowed with input as {"mesh": {"source": {"namespace": "a"}, "destination": {"namespace": "b"}}}
}
