# capabilities_baseline (baseline): containers may add only capabilities of the container runtimes'
# default set, and never NET_RAW. Fields: securityContext.capabilities.add of every container.
# Allowed: absent, empty, entries spelled exactly as one of default_capabilities.
# The one exception is the injected init container, verified to be the injector's (genuine_init_container),
# which may add the mesh's own capabilities (data mesh.init.capabilities: NET_ADMIN, NET_RAW) to redirect
# the Pod's traffic to the proxy.
package portcullis.podsecurity

import rego.v1

default_capabilities := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

capabilities_baseline_v1_0 := malformed_additions | {f |
	some [c, base] in containers
	some [field, cap] in added_capabilities(c, base)
	not cap in default_capabilities
	not mesh_capability(c, cap)
	f := object.union(
		container_finding(c, field, concat("", [
			subject(c), " adds capability ", show(cap), " in ", field,
			": remove it (only the default set may be added: ", concat(", ", sort(default_capabilities)), ")",
		])),
		capability_floor_tag(c, base, cap),
	)
}

added_capabilities(c, base) := list_entries(field, add) if {
	[field, add] := read(c, ["securityContext", "capabilities", "add"], base)
}

# capabilities.add (or what holds it) that is not a list.
malformed_additions := {f |
	some [c, base] in containers
	[field, add] := read(c, ["securityContext", "capabilities", "add"], base)
	not_a_list(add)
	f := container_finding(c, field, sets(subject(c), field, add, "it must be a list of capability names"))
}
