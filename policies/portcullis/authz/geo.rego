# Geo restriction per service: allowedRegions / blockedRegions, entries matched against the source's
# region and its country code, "*" meaning every region.
#   - a specific blocked entry beats any allowed entry;
#   - an allowed entry beats a blocked "*", so the seed's allowed [...] + blocked ["*"] reads
#     "only these regions"; a non-empty allowedRegions alone reads the same;
#   - a source of unknown origin passes a pure block list but never an allow list;
#   - in-cluster sources (country "internal") are not restricted unless a list names "internal".
package portcullis.authz

import rego.v1

geo_violations := [reason |
	some pol in service_policies
	reason := geo_violation(pol)
]

source_geo := [x |
	some x in [input.mesh.source.region, input.mesh.source.country]
	nonempty(x)
]

regions(pol, field) := pol[field] if list_field(pol, field)

regions(pol, field) := [] if not list_field(pol, field)

list_field(obj, field) if is_array(obj[field])

geo_violation(pol) := concat("", ["source region ", blocked[0], " is blocked for ", policy_label(pol)]) if {
	geo_applies(pol)
	blocked := [x | some x in source_geo; x in regions(pol, "blockedRegions")]
	count(blocked) > 0
} else := concat("", ["source region ", geo_description, " is not allowed for ", policy_label(pol)]) if {
	geo_applies(pol)
	allow_list(pol)
	not geo_allowed(pol)
}

geo_description := concat("/", source_geo) if {
	count(source_geo) > 0
} else := "unknown"

geo_applies(pol) if {
	input.mesh.source.country != "internal"
	geo_configured(pol)
}

geo_applies(pol) if {
	input.mesh.source.country == "internal"
	some field in ["allowedRegions", "blockedRegions"]
	"internal" in regions(pol, field)
}

geo_applies(pol) if {
	not input.mesh.source.country
	geo_configured(pol)
}

geo_configured(pol) if count(regions(pol, "allowedRegions")) > 0

geo_configured(pol) if count(regions(pol, "blockedRegions")) > 0

allow_list(pol) if count(regions(pol, "allowedRegions")) > 0

allow_list(pol) if "*" in regions(pol, "blockedRegions")

geo_allowed(pol) if "*" in regions(pol, "allowedRegions")

geo_allowed(pol) if {
	some x in source_geo
	x in regions(pol, "allowedRegions")
}
