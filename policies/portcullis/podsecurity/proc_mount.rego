# procMount (baseline): the runtime masks parts of /proc; a container may not unmask them. From 1.35 a Pod
# in its own user namespace (spec.hostUsers: false) may, as /proc then belongs to that namespace.
# procMount_restricted (restricted, from 1.35) keeps the rule for every Pod, user namespace or not, and
# replaces the baseline check at restricted; it runs the 1.0 variant below.
# Field: securityContext.procMount of every container. Allowed: absent, "Default".
package portcullis.podsecurity

import rego.v1

proc_mount_v1_0 := array.concat(malformed_findings(malformed_container_security_contexts), [f |
	some [c, base] in containers
	value := c.securityContext.procMount
	value != null
	value != "Default"
	field := concat(".", [base, "securityContext.procMount"])
	f := container_finding(c, field, sets(subject(c), field, value, "remove it or set it to Default"))
])

proc_mount_v1_35 := [] if user_namespace_pod

proc_mount_v1_35 := proc_mount_v1_0 if not user_namespace_pod
