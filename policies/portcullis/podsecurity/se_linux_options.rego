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

# The message does not list the allowed types, which differ between versions: the same finding under two
# versions in force is one finding, reported once in the stronger mode.
se_linux_options(types) := array.concat(malformed_findings(malformed_security_contexts), [f |
	some [obj, base, c] in security_context_holders
	options := obj.securityContext.seLinuxOptions
	some [path, value, fix] in bad_se_linux_options(options, types)
	field := concat("", [base, ".securityContext.seLinuxOptions", path])
	f := holder_finding(c, field, sets(holder_name(c), field, value, fix))
])

bad_se_linux_options(options, _) := [["", options, "it must be an object"]] if malformed(options)

bad_se_linux_options(options, types) := [[concat(".", ["", key]), value, fix] |
	some [key, fix] in [
		["type", "remove it or use a container type (container_t, container_init_t, container_kvm_t, container_engine_t from 1.31)"],
		["user", "remove it"],
		["role", "remove it"],
	]
	value := options[key]
	value != null
	not se_linux_allowed(key, value, types)
] if is_object(options)

se_linux_allowed("type", value, types) if value in types

se_linux_allowed("user", "", _)

se_linux_allowed("role", "", _)
