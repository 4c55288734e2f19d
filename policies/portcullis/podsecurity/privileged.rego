# privileged (baseline): privileged containers turn off most of the kernel's isolation.
# Fields: securityContext.privileged of every container. Allowed: absent, false.
package portcullis.podsecurity

import rego.v1

privileged_v1_0 := array.concat(malformed_findings(malformed_container_security_contexts), [f |
	some [c, base] in containers
	value := c.securityContext.privileged
	value != false
	value != null
	field := concat(".", [base, "securityContext.privileged"])
	f := object.union(
		container_finding(c, field, sets(subject(c), field, value, "remove it or set it to false")),
		floor_tag("no-privileged", value),
	)
])
