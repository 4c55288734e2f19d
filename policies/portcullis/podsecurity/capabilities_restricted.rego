# capabilities_restricted (restricted, from 1.22): every container must drop all capabilities and may add
# back only NET_BIND_SERVICE. Replaces capabilities_baseline at restricted. From 1.25 Windows Pods
# (spec.os.name: windows) are exempt.
# Fields: securityContext.capabilities.drop of every container (must contain "ALL") and
# securityContext.capabilities.add (absent, empty, or only "NET_BIND_SERVICE").
# The injected init container, verified to be the injector's, may also add the mesh's own capabilities
# (see capabilities_baseline.rego).
package portcullis.podsecurity

import rego.v1

capabilities_restricted_v1_22 := array.concat(array.concat(malformed_capabilities, missing_drop_all), restricted_additions)

missing_drop_all := [f |
	some [c, base] in containers
	drop := object.get(c, ["securityContext", "capabilities", "drop"], null)
	not drops_all(drop)
	field := concat(".", [base, "securityContext.capabilities.drop"])
	f := container_finding(c, field, drop_all_message(c, field, drop))
]

drops_all(drop) if {
	is_array(drop)
	"ALL" in drop
}

drop_all_message(c, field, null) := concat("", [subject(c), " must set ", field, " to [\"ALL\"]"])

drop_all_message(c, field, drop) := sets(subject(c), field, drop, "include \"ALL\"") if drop != null

restricted_additions := [f |
	some [c, base] in containers
	is_array(c.securityContext.capabilities.add)
	some i, cap in c.securityContext.capabilities.add
	cap != "NET_BIND_SERVICE"
	not mesh_capability(c, cap)
	field := concat("", [base, ".securityContext.capabilities.add[", format_int(i, 10), "]"])
	f := object.union(
		container_finding(c, field, concat("", [
			subject(c), " adds capability ", show(cap), " in ", field, ": remove it (only NET_BIND_SERVICE may be added)",
		])),
		capability_floor_tag(c, base, cap),
	)
]

capabilities_restricted_v1_25 := [] if windows_pod

capabilities_restricted_v1_25 := capabilities_restricted_v1_22 if not windows_pod
