# Rule 7: traffic to a service inside the mesh must use Istio's mutual TLS. A DestinationRule with
# SIMPLE, MUTUAL (own certificates) or DISABLE would replace the mesh identity with something the
# peer's authorization policies cannot see; a tls block without a mode means DISABLE.
package portcullis.admission

import rego.v1

destination_rule if group_kind == "networking.istio.io/DestinationRule"

builtin_in_mesh_host_suffixes := [".svc.cluster.local", ".svc"]

in_mesh_host(host) if not contains(host, ".")

in_mesh_host(host) if {
	some suffix in array.concat(builtin_in_mesh_host_suffixes, in_mesh_host_suffixes)
	endswith(host, suffix)
}

# A wildcard host covers every host ending in its domain part, so "*.local" or "*.cluster.local"
# also covers payments.team.svc.cluster.local: it is in the mesh when some in-mesh suffix ends with
# that domain part ("*" alone has no dot and is a short name above).
in_mesh_host(host) if {
	startswith(host, "*")
	domain := trim_prefix(host, "*")
	some suffix in array.concat(builtin_in_mesh_host_suffixes, in_mesh_host_suffixes)
	endswith(suffix, domain)
}

# [field of the tls block, where it applies] for every place a DestinationRule can set client TLS.
tls_settings contains [field, tls, "all ports"] if {
	tls := spec.trafficPolicy.tls
	field := "spec.trafficPolicy.tls"
}

tls_settings contains [field, tls, port_scope(p)] if {
	some i, p in spec.trafficPolicy.portLevelSettings
	tls := p.tls
	field := concat("", ["spec.trafficPolicy.portLevelSettings[", format_int(i, 10), "].tls"])
}

tls_settings contains [field, tls, subset_scope(s)] if {
	some j, s in spec.subsets
	tls := s.trafficPolicy.tls
	field := concat("", ["spec.subsets[", format_int(j, 10), "].trafficPolicy.tls"])
}

tls_settings contains [field, tls, concat(" ", [subset_scope(s), port_scope(p)])] if {
	some j, s in spec.subsets
	some i, p in s.trafficPolicy.portLevelSettings
	tls := p.tls
	field := concat("", [
		"spec.subsets[", format_int(j, 10), "].trafficPolicy.portLevelSettings[",
		format_int(i, 10), "].tls",
	])
}

port_scope(p) := concat("", ["port ", format_int(p.port.number, 10)]) if is_number(p.port.number)

else := "a port"

subset_scope(s) := concat("", ["subset ", quote(s.name)]) if is_string(s.name)

else := "a subset"

violation contains {
	"rule": "destination-rule-istio-mutual",
	"msg": concat("", [
		"DestinationRule host ", quote(host), " is inside the mesh but ", field, ".mode is ", mode,
		" for ", scope, ": set ", field, ".mode to ISTIO_MUTUAL, or remove the tls block to keep Istio's automatic mTLS",
	]),
	"details": {"field": concat("", [field, ".mode"]), "host": host, "mode": mode},
} if {
	destination_rule
	spec_changed
	host := lower(spec.host)
	in_mesh_host(host)
	some [field, tls, scope] in tls_settings
	mode := object.get(tls, "mode", "DISABLE (the default when unset)")
	mode != "ISTIO_MUTUAL"
}
