# seccompProfile_baseline (baseline): a seccomp profile, where one is set, may be the runtime's default or
# one of the node's, never Unconfined.
# Up to 1.18, annotations: metadata.annotations["seccomp.security.alpha.kubernetes.io/pod"] and
# ["container.seccomp.security.alpha.kubernetes.io/<container name>"]. Allowed: absent, "runtime/default",
# "docker/default", "localhost/<profile>".
# From 1.19, fields: securityContext.seccompProfile.type of the Pod and of every container. Allowed: no
# profile, RuntimeDefault, Localhost (a profile without a type is not allowed). The API server copies the
# annotations of a new Pod into these fields, so the annotations are no longer read.
package portcullis.podsecurity

import rego.v1

seccomp_types := {"RuntimeDefault", "Localhost"}

seccomp_pod_annotation := "seccomp.security.alpha.kubernetes.io/pod"

seccomp_container_annotation_prefix := "container.seccomp.security.alpha.kubernetes.io/"

seccomp_profile_baseline_v1_0 := [f |
	some key in seccomp_annotation_keys
	value := annotations[key]
	not seccomp_annotation_allowed(value)
	field := annotation_field(key)
	f := finding(field, sets(kind_name, field, value, "use runtime/default or localhost/<profile>"))
]

seccomp_annotation_keys := {seccomp_pod_annotation} | {concat("", [seccomp_container_annotation_prefix, name]) |
	some [c, _] in containers
	is_string(c.name)
	name := c.name
}

seccomp_annotation_allowed("runtime/default")

seccomp_annotation_allowed("docker/default")

seccomp_annotation_allowed(v) if {
	is_string(v)
	startswith(v, "localhost/")
}

seccomp_profile_baseline_v1_19 := array.concat(malformed_findings(malformed_security_contexts), [f |
	some [obj, base, c] in security_context_holders
	some [field, value] in bad_profile_type(obj.securityContext.seccompProfile, base, "seccompProfile", seccomp_types)
	f := holder_finding(c, field, sets(holder_name(c), field, value, "use RuntimeDefault or Localhost"))
])
