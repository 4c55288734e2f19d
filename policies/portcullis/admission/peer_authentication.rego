# Rule 5: mTLS between workloads is STRICT everywhere.
#
# An absent mode or UNSET inherits from the parent policy (workload -> namespace -> mesh-wide), and
# every parent is held to this rule too, so inheriting is allowed. The exception is the mesh-wide
# policy (root namespace, no selector): its parent is Istio's built-in PERMISSIVE default, so it
# must say STRICT itself. A port-level UNSET inherits the policy's own mode and is allowed. For the
# same reason the mesh-wide policy may not be deleted, nor turned into a workload policy by an
# update that adds a selector: either reverts the whole mesh to PERMISSIVE.
package portcullis.admission

import rego.v1

peer_authentication if group_kind == "security.istio.io/PeerAuthentication"

inherited_mtls_modes := {"UNSET", ""}

mesh_wide(policy_spec) if {
	request_namespace == root_namespace
	count(istio_get(istio_get(policy_spec, "selector", {}), "matchLabels", {})) == 0
}

mesh_wide_peer_authentication if mesh_wide(spec)

old_mesh_wide_peer_authentication if mesh_wide(object.get(old_object, "spec", {}))

violation contains {
	"rule": "peer-authentication-strict",
	"msg": concat("", [
		"PeerAuthentication spec.mtls.mode is ", text(mode),
		": set spec.mtls.mode to STRICT so every workload only accepts mutual TLS",
	]),
	"details": {"field": "spec.mtls.mode", "mode": mode},
} if {
	peer_authentication
	spec_changed
	mode := mtls_mode(istio_get(spec, "mtls", {}), "spec.mtls.mode")
	mode != "STRICT"
	not mode in inherited_mtls_modes
}

# A mode as its name (3 is STRICT); unset (absent or null) is UNSET.
mtls_mode(settings, pattern) := istio_enum(pattern, istio_get(settings, "mode", "UNSET"))

violation contains {
	"rule": "peer-authentication-strict",
	"msg": concat("", [
		"mesh-wide PeerAuthentication (namespace ", root_namespace, ", no selector) leaves spec.mtls.mode unset,",
		" which falls back to Istio's PERMISSIVE default: set spec.mtls.mode to STRICT",
	]),
	"details": {"field": "spec.mtls.mode", "mode": "UNSET"},
} if {
	peer_authentication
	spec_changed
	mesh_wide_peer_authentication
	mtls_mode(istio_get(spec, "mtls", {}), "spec.mtls.mode") in inherited_mtls_modes
}

violation contains {
	"rule": "peer-authentication-strict",
	"msg": concat("", [
		"PeerAuthentication ", field, " is ", text(mode), " for port ", text(port),
		": set it to STRICT, or remove the port entry so the port inherits spec.mtls.mode",
	]),
	"details": {"field": field, "port": port, "mode": mode},
} if {
	peer_authentication
	spec_changed
	some port, settings in istio_get(spec, "portLevelMtls", {})
	mode := mtls_mode(settings, "spec.portLevelMtls.{}.mode")
	mode != "STRICT"
	not mode in inherited_mtls_modes
	field := concat("", ["spec.portLevelMtls[", quote(port), "].mode"])
}

violation contains {
	"rule": "peer-authentication-strict",
	"msg": concat("", [
		"PeerAuthentication ", quote(object_name), " is the mesh-wide policy (namespace ", root_namespace,
		", no selector) and cannot be deleted: without it every workload falls back to Istio's PERMISSIVE",
		" default and accepts plain text; to change it, replace it with a STRICT one instead",
		" (apply it again with spec.mtls.mode STRICT)",
	]),
	"details": {"name": object_name, "namespace": root_namespace},
} if {
	operation == "DELETE"
	peer_authentication
	old_mesh_wide_peer_authentication
	not request_user in mesh_wide_peer_authentication_deleters
}

violation contains {
	"rule": "peer-authentication-strict",
	"msg": concat("", [
		"PeerAuthentication ", quote(object_name), " is the mesh-wide policy (namespace ", root_namespace,
		", no selector) and spec.selector would turn it into a workload policy, leaving the mesh on Istio's",
		" PERMISSIVE default: keep it without a selector (spec.mtls.mode STRICT) and create a separate",
		" PeerAuthentication for the selected workloads",
	]),
	"details": {"field": "spec.selector", "name": object_name, "namespace": root_namespace},
} if {
	operation == "UPDATE"
	peer_authentication
	old_mesh_wide_peer_authentication
	not mesh_wide_peer_authentication
}
