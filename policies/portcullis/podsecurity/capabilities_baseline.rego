# capabilities_baseline (baseline): containers may add only capabilities of the container runtimes'
# default set, and never NET_RAW. Fields: securityContext.capabilities.add of every container.
# Allowed: absent, empty, entries spelled exactly as one of default_capabilities.
# The one exception is the injected init container, verified to be the injector's (mesh.rego), which may
# add the mesh's own capabilities (data mesh.init.capabilities: NET_ADMIN, NET_RAW) to redirect the Pod's
# traffic to the proxy.
package portcullis.podsecurity

import rego.v1

default_capabilities := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

capabilities_baseline_v1_0 := array.concat(malformed_capabilities, [f |
	some [c, base] in containers
	is_array(c.securityContext.capabilities.add)
	some i, cap in c.securityContext.capabilities.add
	not cap in default_capabilities
	not mesh_capability(c, cap)
	field := concat("", [base, ".securityContext.capabilities.add[", format_int(i, 10), "]"])
	f := object.union(
		container_finding(c, field, concat("", [
			subject(c), " adds capability ", show(cap), " in ", field,
			": remove it (only the default set may be added: ", concat(", ", sort(default_capabilities)), ")",
		])),
		capability_floor_tag(c, base, cap),
	)
])

# securityContext, capabilities or capabilities.add of the wrong type (both capabilities checks).
malformed_capabilities := array.concat(malformed_findings(malformed_container_security_contexts), [f |
	some [c, base] in containers
	some [path, value, fix] in malformed_capability_fields(c)
	field := concat(".", [base, path])
	f := container_finding(c, field, sets(subject(c), field, value, fix))
])

malformed_capability_fields(c) := [["securityContext.capabilities", caps, "it must be an object"]] if {
	caps := c.securityContext.capabilities
	malformed(caps)
} else := [[concat(".", ["securityContext.capabilities", key]), list, "it must be a list of capability names"] |
	some key in ["add", "drop"]
	list := c.securityContext.capabilities[key]
	list != null
	not is_array(list)
]
