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

# [field of the tls block, its settings, where it applies] for every place a DestinationRule can set
# client TLS (fields under their JSON or proto names).
traffic_policy_of(obj) := p if {
	p := istio_get(obj, "trafficPolicy", {})
	is_object(p)
} else := {}

tls_settings contains ["spec.trafficPolicy.tls", tls, "all ports"] if {
	tls := istio_field(traffic_policy_of(spec), "tls")
}

tls_settings contains [field, tls, port_scope(p)] if {
	some i, p in entries(traffic_policy_of(spec), "portLevelSettings")
	tls := istio_field(p, "tls")
	field := concat("", ["spec.trafficPolicy.portLevelSettings[", format_int(i, 10), "].tls"])
}

tls_settings contains [field, tls, subset_scope(s)] if {
	some j, s in entries(spec, "subsets")
	tls := istio_field(traffic_policy_of(s), "tls")
	field := concat("", ["spec.subsets[", format_int(j, 10), "].trafficPolicy.tls"])
}

tls_settings contains [field, tls, concat(" ", [subset_scope(s), port_scope(p)])] if {
	some j, s in entries(spec, "subsets")
	some i, p in entries(traffic_policy_of(s), "portLevelSettings")
	tls := istio_field(p, "tls")
	field := concat("", [
		"spec.subsets[", format_int(j, 10), "].trafficPolicy.portLevelSettings[",
		format_int(i, 10), "].tls",
	])
}

port_scope(p) := concat("", ["port ", text(number)]) if {
	number := istio_get(istio_get(p, "port", {}), "number", null)
	is_number(number)
} else := "a port"

subset_scope(s) := concat("", ["subset ", quote(name)]) if {
	name := istio_get(s, "name", null)
	is_string(name)
} else := "a subset"

# Istio's default for a tls block without a mode (or with null, Istio's "not set") is DISABLE; a tls block
# of null is no block at all. ClientTLSSettings.TLSmode is the same enum everywhere, so one pattern names it.
tls_mode(tls) := istio_enum("spec.trafficPolicy.tls.mode", istio_get(tls, "mode", "DISABLE (the default when unset)"))

violation contains {
	"rule": "destination-rule-istio-mutual",
	"msg": concat("", [
		"DestinationRule host ", quote(host), " is inside the mesh but ", field, ".mode is ", text(mode),
		" for ", scope, ": set ", field, ".mode to ISTIO_MUTUAL, or remove the tls block to keep Istio's automatic mTLS",
	]),
	"details": {"field": concat("", [field, ".mode"]), "host": host, "mode": mode},
} if {
	destination_rule
	spec_changed
	raw_host := istio_get(spec, "host", "")
	is_string(raw_host)
	host := lower(raw_host)
	in_mesh_host(host)
	some [field, tls, scope] in tls_settings
	tls != null
	mode := tls_mode(tls)
	mode != "ISTIO_MUTUAL"
}
