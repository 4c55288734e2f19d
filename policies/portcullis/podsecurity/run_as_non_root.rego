# runAsNonRoot (restricted): containers must be required to run as a user other than root. From 1.35 a Pod
# in its own user namespace (spec.hostUsers: false) is exempt: root there is not root on the node.
# Fields: securityContext.runAsNonRoot of the Pod and of every container. Allowed: true; absent on a
# container when the Pod sets true.
package portcullis.podsecurity

import rego.v1

run_as_non_root_v1_0 := pod_run_as_non_root | containers_run_as_non_root

pod_run_as_non_root := {f |
	[field, value] := read(spec, ["securityContext", "runAsNonRoot"], spec_field)
	not value in {null, true}
	f := finding(field, sets(kind_name, field, value, "set it to true"))
}

pod_runs_as_non_root if object.get(spec, ["securityContext", "runAsNonRoot"], null) == true

containers_run_as_non_root := {f |
	some [c, base] in containers
	[field, value] := read(c, ["securityContext", "runAsNonRoot"], base)
	not container_runs_as_non_root(value)
	f := container_finding(c, field, run_as_non_root_message(c, field, value))
}

container_runs_as_non_root(true)

container_runs_as_non_root(null) if pod_runs_as_non_root

run_as_non_root_message(c, field, null) := concat("", [
	subject(c), " must set ", field, " to true (or ", spec_field, ".securityContext.runAsNonRoot to true for every container)",
])

run_as_non_root_message(c, field, value) := sets(subject(c), field, value, "set it to true") if value != null

run_as_non_root_v1_35 := set() if user_namespace_pod

run_as_non_root_v1_35 := run_as_non_root_v1_0 if not user_namespace_pod
