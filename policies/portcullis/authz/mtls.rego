# Peer authentication: a global `authentication.mutualTLS: strict` or a service policy with
# `encryption: required` (the seed's PCI example) needs a verified SPIFFE identity on the request;
# inside the mesh the peer's certificate is the only evidence the hop was encrypted.
package portcullis.authz

import rego.v1

# A peer certificate without a SPIFFE ID (a legacy x509 subject) names no mesh workload.
spiffe_source if spiffe_parts(source_principal)

mtls_requirement := "global policy" if {
	some p in global_policies
	lower(p.authentication.mutualTLS) == "strict"
} else := policy_label(encrypted[0]) if {
	encrypted := [pol | some pol in service_policies; pol.encryption == "required"]
	count(encrypted) > 0
}
