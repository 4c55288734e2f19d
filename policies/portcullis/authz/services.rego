# Service-scope policies of the destination service. Only the destination's entries are looked at:
# a scan comparing one name per listed service, no per-request index built over all of them.
package portcullis.authz

import rego.v1

# Every policy of every `scope: service` entry naming this service: a service may appear in
# several such entries and all of their policies apply.
service_policies := [pol |
	some p in policies
	p.scope == "service"
	some s in p.services
	s.name == destination_service
	some pol in s.policies
]

policy_label(pol) := concat("", [destination_service, " (policy ", name_or(pol, "unnamed"), ")"])
