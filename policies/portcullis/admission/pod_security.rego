# Rule family 2: a workload must not escape its sandbox, because a container that owns the node's
# network or kernel can bypass the sidecar and impersonate other workloads.
package portcullis.admission

import rego.v1

violation contains {
	"rule": "no-privileged",
	"msg": concat("", [
		"container ", container_label(c), " runs privileged: remove ", field,
		" or set it to false",
	]),
	"details": {"container": object.get(c, "name", null), "field": field},
} if {
	some [list, i] in container_refs
	c := pod_spec[list][i]
	c.securityContext.privileged == true
	field := concat("", [container_field(list, i), ".securityContext.privileged"])
}

host_namespace_fields := ["hostNetwork", "hostPID", "hostIPC"]

violation contains {
	"rule": "no-host-namespaces",
	"msg": concat("", [
		kind_name, " sets ", field, ": true, sharing the node's namespace: remove ", field,
		" or set it to false",
	]),
	"details": {"field": field},
} if {
	pod_spec_changed
	some name in host_namespace_fields
	pod_spec[name] == true
	field := concat("", [template_prefix, "spec.", name])
}

violation contains {
	"rule": "capabilities-allowlist",
	"msg": concat("", [
		"container ", container_label(c), " adds capability ", text(cap), " in ", field,
		": remove it", capability_hint(list, c),
	]),
	"details": {"container": object.get(c, "name", null), "capability": cap, "field": field},
} if {
	some [list, i] in container_refs
	c := pod_spec[list][i]
	some cap in c.securityContext.capabilities.add
	not capability_allowed(list, c, cap)
	field := concat("", [container_field(list, i), ".securityContext.capabilities.add"])
}

# Compared by name, not spelling, so "CAP_SYS_ADMIN" or "sys_admin" cannot slip past an allowlist entry.
capability_name(cap) := trim_prefix(upper(cap), "CAP_") if is_string(cap)

capability_allowed(_, _, cap) if {
	some allowed in allowed_capabilities
	capability_name(allowed) == capability_name(cap)
}

capability_allowed("initContainers", c, cap) if {
	injected_init_container(c)
	some allowed in init_capabilities
	capability_name(allowed) == capability_name(cap)
}

# Name and image both have to match, and the injector must vouch for it (injected.rego): a container
# that merely borrows the name, or a hand-written copy, gets no privileges.
injected_init_container(c) if {
	c.name == init_container_name
	container_image_repository(c.image) == init_repository
	injected_container("initContainers", c)
}

capability_hint(list, c) := concat("", [
	" (only the injected ", init_container_name, " init container from ", init_image_repository,
	" may add ", concat(", ", init_capabilities), ")",
]) if {
	c.name == init_container_name
	not injected_init_container_in(list, c)
} else := concat("", ["; allowed capabilities: ", concat(", ", allowed_capabilities)]) if {
	count(allowed_capabilities) > 0
} else := "; no capability may be added"

injected_init_container_in("initContainers", c) if injected_init_container(c)
