# allowPrivilegeEscalation (restricted, from 1.8): no process may gain more privileges than its parent
# (set-user-ID binaries, file capabilities). From 1.25 Windows Pods (spec.os.name: windows) are exempt, as
# the field does not exist there.
# Field: securityContext.allowPrivilegeEscalation of every container. Allowed: false (it must be set).
package portcullis.podsecurity

import rego.v1

allow_privilege_escalation_v1_8 := [f |
	some [c, base] in containers
	value := object.get(c, ["securityContext", "allowPrivilegeEscalation"], null)
	value != false
	field := concat(".", [base, "securityContext.allowPrivilegeEscalation"])
	f := container_finding(c, field, must_be(subject(c), field, value, false))
]

allow_privilege_escalation_v1_25 := [] if windows_pod

allow_privilege_escalation_v1_25 := allow_privilege_escalation_v1_8 if not windows_pod
