# runAsNonRoot (restricted): containers must be required to run as a user other than root. From 1.35 a Pod
# in its own user namespace (spec.hostUsers: false) is exempt: root there is not root on the node.
# Fields: securityContext.runAsNonRoot of the Pod and of every container. Allowed: true; absent on a
# container when the Pod sets true.
package portcullis.podsecurity

import rego.v1

run_as_non_root_v1_0 := array.concat(array.concat(malformed_findings(malformed_security_contexts), pod_run_as_non_root), containers_run_as_non_root)

pod_run_as_non_root := [f |
	value := spec.securityContext.runAsNonRoot
	value != null
	value != true
	field := concat(".", [spec_field, "securityContext.runAsNonRoot"])
	f := finding(field, sets(kind_name, field, value, "set it to true"))
]

pod_runs_as_non_root if spec.securityContext.runAsNonRoot == true

containers_run_as_non_root := [f |
	some [c, base] in containers
	value := object.get(c, ["securityContext", "runAsNonRoot"], null)
	value != true
	not inherits_run_as_non_root(value)
	field := concat(".", [base, "securityContext.runAsNonRoot"])
	f := container_finding(c, field, run_as_non_root_message(c, field, value))
]

inherits_run_as_non_root(null) if pod_runs_as_non_root

run_as_non_root_message(c, field, null) := concat("", [
	subject(c), " must set ", field, " to true (or ", spec_field, ".securityContext.runAsNonRoot to true for every container)",
])

run_as_non_root_message(c, field, value) := sets(subject(c), field, value, "set it to true") if value != null

run_as_non_root_v1_35 := [] if user_namespace_pod

run_as_non_root_v1_35 := run_as_non_root_v1_0 if not user_namespace_pod
