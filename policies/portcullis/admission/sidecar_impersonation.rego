# Only the injector's sidecar may look like it. In a mesh namespace (or a Pod asking for injection) a
# container of the author's own with the proxy's or the init container's name would pass for the
# sidecar (sidecar-required, the init container's capabilities), and one with their image would run
# the mesh's programs under the author's settings. A new Pod whose status annotation claims an
# injection the injector does not confirm is refused with the injector's reason.
package portcullis.admission

import rego.v1

# [name, image repository as configured, normalized, what it is]
sidecar_identities := array.concat(
	[
		[proxy_container_name, proxy_image_repository, proxy_repository, "proxy"],
		[init_container_name, init_image_repository, init_repository, "init container"],
	],
	validation_identity,
)

# Portcullis' node-mode check (redirect-check in Portcullis' own image); Istio's sidecar has no such container of ours.
validation_identity := [[validation_container_name, validation_image_repository, validation_repository, "validation container"]] if {
	sidecar_provider != "istio"
} else := []

# By name first: a container named like the sidecar is reported once, whatever its image.
impersonates(c, name, normalized) := "name" if {
	c.name == name
} else := "image" if {
	container_image_repository(c.image) == normalized
}

violation contains {
	"rule": "sidecar-impersonation",
	"msg": concat("", [
		"container ", container_label(c), " (", container_field(list, i), ") has the ", how, " of the ", sidecar_owner, " ",
		what, " (", quote(shown), ") but was not injected by ", sidecar_owner, ": only the injected sidecar may;",
		" remove it (or rename it and use another image) and let the injector add the sidecar",
	]),
	"details": {"container": object.get(c, "name", null), "field": container_field(list, i), "reserved": how},
} if {
	sidecar_scope
	some [list, i] in bypass_refs
	c := pod_spec[list][i]
	not injected_container(list, c)
	some [name, repo, normalized, what] in sidecar_identities
	how := impersonates(c, name, normalized)
	shown := {"name": name, "image": repo}[how]
}

violation contains {
	"rule": "sidecar-impersonation",
	"msg": input.context.sidecar.reason,
	"details": {"annotation": "sidecar.portcullis.io/status"},
} if {
	group_kind == "/Pod"
	operation == "CREATE"
	input.context.sidecar.verified == false
	is_string(input.context.sidecar.reason)
}
