# The traffic redirect tells the proxy's own connections from the application's by their owner: the
# proxy's UID and GID (mesh.proxy.uid / gid, 1337) are let through untouched so the proxy does not
# loop. A container of the application running as that UID or GID is let through as well, and so
# skips mutual TLS and ext_authz altogether (Istio's security guidance reserves the UID for the same
# reason). Refused for every container kind and pod-bearing kind, set on the container or inherited
# from the pod's securityContext; only the injected proxy may run so.
#
# Not seen here: an image whose own USER is 1337, used without runAsUser (the image is not read at
# admission). fsGroup and supplementalGroups are no way around it: the redirect matches the owner's
# primary group only.
package portcullis.admission

import rego.v1

# [securityContext field, reserved id, what it is]
proxy_ids := [["runAsUser", proxy_uid, "UID"], ["runAsGroup", proxy_gid, "GID"]]

# The value a container runs with, and the field that sets it: its own securityContext, else the pod's.
effective_security_id(list, i, key) := [v, concat("", [container_field(list, i), ".securityContext.", key])] if {
	v := pod_spec[list][i].securityContext[key]
	v != null
} else := [v, concat("", [template_prefix, "spec.securityContext.", key])] if {
	v := pod_spec.securityContext[key]
	v != null
}

violation contains {
	"rule": "proxy-uid-reserved",
	"msg": concat("", [
		"container ", quote(c.name), " runs with ", what, " ", format_int(reserved, 10), " (", field,
		"), which is reserved for the mesh proxy: the traffic redirect lets its connections through",
		" untouched, so they would skip the sidecar (no mutual TLS, no authorization); choose another ", what,
	]),
	"details": {"container": c.name, "field": field, "value": reserved},
} if {
	sidecar_scope
	some [list, i] in bypass_refs
	c := pod_spec[list][i]
	not injected_container(list, c)
	some [key, reserved, what] in proxy_ids
	[value, field] := effective_security_id(list, i, key)
	value == reserved
}
