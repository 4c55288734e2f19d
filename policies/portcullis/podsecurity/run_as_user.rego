# runAsUser (restricted, from 1.23): no container may run as user 0. From 1.35 a Pod in its own user
# namespace (spec.hostUsers: false) is exempt.
# Fields: securityContext.runAsUser of the Pod and of every container. Allowed: absent, a number other than 0.
package portcullis.podsecurity

import rego.v1

run_as_user_v1_23 := array.concat(malformed_findings(malformed_security_contexts), [f |
	some [obj, base, c] in security_context_holders
	value := obj.securityContext.runAsUser
	value != null
	not run_as_user_allowed(value)
	field := concat(".", [base, "securityContext.runAsUser"])
	f := holder_finding(c, field, sets(holder_name(c), field, value, "run as a user other than root (0)"))
])

run_as_user_allowed(v) if {
	is_number(v)
	v != 0
}

run_as_user_v1_35 := [] if user_namespace_pod

run_as_user_v1_35 := run_as_user_v1_23 if not user_namespace_pod
