# seLinuxOptions (baseline): the SELinux type may only be one of the container types, and user and role may
# not be set. Fields: securityContext.seLinuxOptions.type, .user and .role of the Pod and of every container.
# Allowed type: absent, "", container_t, container_init_t, container_kvm_t, and from 1.31 container_engine_t.
# Allowed user and role: absent, "".
package portcullis.podsecurity

import rego.v1

se_linux_types_v1_0 := {"", "container_t", "container_init_t", "container_kvm_t"}

se_linux_types_v1_31 := se_linux_types_v1_0 | {"container_engine_t"}

se_linux_options_v1_0 := se_linux_options(se_linux_types_v1_0)

se_linux_options_v1_31 := se_linux_options(se_linux_types_v1_31)

se_linux_options(types) := {f |
	some [obj, base, who, c] in security_context_holders
	some [field, value, fix] in bad_se_linux_options(obj, base, types)
	f := holder_finding(c, field, sets(who, field, value, fix))
}

bad_se_linux_options(obj, base, types) := [] if {
	[_, value] := read(obj, ["securityContext", "seLinuxOptions"], base)
	value == null
} else := [[field, value, "remove it"]] if {
	[field, value] := read(obj, ["securityContext", "seLinuxOptions"], base)
	not is_object(value)
} else := [[concat(".", [field, key]), value, fix] |
	[field, options] := read(obj, ["securityContext", "seLinuxOptions"], base)
	some [key, allowed, fix] in [
		["type", types, concat("", ["remove it or use one of ", concat(", ", sort(types - {""}))])],
		["user", {""}, "remove it"],
		["role", {""}, "remove it"],
	]
	value := object.get(options, key, null)
	value != null
	not value in allowed
]
