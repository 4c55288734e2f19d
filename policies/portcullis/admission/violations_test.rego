package portcullis.admission_test

import rego.v1

import data.portcullis.admission

test_privileged_denied if {
	v := admission.violations with input as {"request": {"kind": {"kind": "Pod"}, "object": {"spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}}}}
	v[0].rule == "no-privileged"
	v[0].enforcement == "deny"
}
