# seccompProfile_restricted (restricted, from 1.19): every container must run under a seccomp profile, the
# runtime's default or one of the node's. Replaces seccompProfile_baseline at restricted. From 1.25 Windows
# Pods (spec.os.name: windows) are exempt.
# Fields: securityContext.seccompProfile.type of the Pod and of every container. Allowed: RuntimeDefault,
# Localhost; absent on a container when the Pod sets one of them.
package portcullis.podsecurity

import rego.v1

seccomp_profile_restricted_v1_19 := array.concat(seccomp_profile_baseline_v1_19, containers_without_seccomp)

pod_seccomp_allowed if spec.securityContext.seccompProfile.type in seccomp_types

containers_without_seccomp := [f |
	not pod_seccomp_allowed
	some [c, base] in containers
	object.get(c, ["securityContext", "seccompProfile"], null) == null
	field := concat(".", [base, "securityContext.seccompProfile"])
	f := container_finding(c, field, concat("", [
		subject(c), " must set ", field, ".type to RuntimeDefault or Localhost (or ",
		spec_field, ".securityContext.seccompProfile.type for every container)",
	]))
]

seccomp_profile_restricted_v1_25 := [] if windows_pod

seccomp_profile_restricted_v1_25 := seccomp_profile_restricted_v1_19 if not windows_pod
