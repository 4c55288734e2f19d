# Rule 5: mTLS between workloads is STRICT everywhere.
#
# An absent mode or UNSET inherits from the parent policy (workload -> namespace -> mesh-wide), and
# every parent is held to this rule too, so inheriting is allowed. The exception is the mesh-wide
# policy (root namespace, no selector): its parent is Istio's built-in PERMISSIVE default, so it
# must say STRICT itself. A port-level UNSET inherits the policy's own mode and is allowed.
package portcullis.admission

import rego.v1

peer_authentication if group_kind == "security.istio.io/PeerAuthentication"

inherited_mtls_modes := {"UNSET", ""}

mesh_wide_peer_authentication if {
	request_namespace == root_namespace
	count(object.get(spec, ["selector", "matchLabels"], {})) == 0
}

violation contains {
	"rule": "peer-authentication-strict",
	"msg": concat("", [
		"PeerAuthentication spec.mtls.mode is ", mode,
		": set spec.mtls.mode to STRICT so every workload only accepts mutual TLS",
	]),
	"details": {"field": "spec.mtls.mode", "mode": mode},
} if {
	peer_authentication
	spec_changed
	mode := object.get(spec, ["mtls", "mode"], "UNSET")
	mode != "STRICT"
	not mode in inherited_mtls_modes
}

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
	object.get(spec, ["mtls", "mode"], "UNSET") in inherited_mtls_modes
}

violation contains {
	"rule": "peer-authentication-strict",
	"msg": concat("", [
		"PeerAuthentication ", field, " is ", mode, " for port ", port,
		": set it to STRICT, or remove the port entry so the port inherits spec.mtls.mode",
	]),
	"details": {"field": field, "port": port, "mode": mode},
} if {
	peer_authentication
	spec_changed
	some port, settings in spec.portLevelMtls
	mode := object.get(settings, "mode", "UNSET")
	mode != "STRICT"
	not mode in inherited_mtls_modes
	field := concat("", ["spec.portLevelMtls[", quote(port), "].mode"])
}
