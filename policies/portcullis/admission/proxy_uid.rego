# The traffic redirect tells the proxy's own connections from the application's by their owner: the
# proxy's UID and GID (mesh.proxy.uid / gid, 1337) are let through untouched so the proxy does not
# loop. A container of the application running as that UID or GID is let through as well, and so
# skips mutual TLS and ext_authz altogether (Istio's security guidance reserves the UID for the same
# reason). Refused for every container kind and pod-bearing kind, set on the container or in the pod's
# securityContext (which every container that sets none inherits, those added later by kubectl debug
# included); only the injected proxy may run so.
#
# Not seen here: an image whose own USER is 1337, used without runAsUser (the image is not read at
# admission). fsGroup and supplementalGroups are no way around it: the redirect matches the owner's
# primary group only.
package portcullis.admission

import rego.v1

# [securityContext field, reserved id, what it is]
proxy_ids := [["runAsUser", proxy_uid, "UID"], ["runAsGroup", proxy_gid, "GID"]]

proxy_id_consequence := concat("", [
	", which is reserved for the mesh proxy: the traffic redirect lets its connections through",
	" untouched, so they would skip the sidecar (no mutual TLS, no authorization); choose another ",
])

# The pod's own setting, judged once whenever it is new or changed, whatever its containers say: any
# container that sets none runs with it, and so would any added later.
violation contains {
	"rule": "proxy-uid-reserved",
	"msg": concat("", [
		kind_name, " sets ", field, " to ", what, " ", format_int(reserved, 10), " for its containers",
		proxy_id_consequence, what,
	]),
	"details": {"field": field, "value": reserved},
} if {
	sidecar_scope
	pod_security_context_judged
	some [key, reserved, what] in proxy_ids
	pod_spec.securityContext[key] == reserved
	field := concat("", [template_prefix, "spec.securityContext.", key])
}

# A container's own setting, or on UPDATE the pod's unchanged one that a new or changed container
# inherits (kubectl debug adding an ephemeral container without a securityContext).
violation contains {
	"rule": "proxy-uid-reserved",
	"msg": concat("", [
		"container ", container_label(c), " runs with ", what, " ", format_int(reserved, 10), " (", field, ")",
		proxy_id_consequence, what,
	]),
	"details": {"container": object.get(c, "name", null), "field": field, "value": reserved},
} if {
	sidecar_scope
	some [list, i] in bypass_refs
	c := pod_spec[list][i]
	not injected_container(list, c)
	some [key, reserved, what] in proxy_ids
	[value, field] := container_security_id(list, i, key)
	value == reserved
}

# The value a container runs with and the field that sets it: its own securityContext, else the pod's
# where that one is not judged above.
container_security_id(list, i, key) := [v, concat("", [container_field(list, i), ".securityContext.", key])] if {
	v := pod_spec[list][i].securityContext[key]
	v != null
} else := [v, concat("", [template_prefix, "spec.securityContext.", key])] if {
	not pod_security_context_judged
	v := pod_spec.securityContext[key]
}

pod_security_context_judged if {
	operation == "CREATE"
	pod_spec
}

pod_security_context_judged if {
	operation == "UPDATE"
	object.get(old_pod_template, ["spec", "securityContext"], null) != object.get(pod_spec, "securityContext", null)
}
