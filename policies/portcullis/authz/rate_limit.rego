# Rate limits of the destination service, returned for TypeScript to enforce with token buckets
# (capacity `burst`, refilled at requests_per_minute / 60 per second; 429 when empty).
# The bucket is per caller of the service: one noisy workload must not starve the others. Callers
# are told apart by SPIFFE ID, by source IP when they have none.
package portcullis.authz

import rego.v1

# The strictest limit wins when several policies set one: lowest rate, then lowest burst.
rate_limit := {"key": rate_limit_key, "requests_per_minute": strictest[0], "burst": strictest[1]} if {
	limits := [[rpm, burst] |
		some pol in service_policies
		rpm := pol.requestsPerMinute
		burst := burst_of(pol)
	]
	count(limits) > 0
	strictest := sort(limits)[0]
}

# Without burstLimit a caller may spend one second's worth of requests at once.
burst_of(pol) := pol.burstLimit if pol.burstLimit

burst_of(pol) := max([1, ceil(pol.requestsPerMinute / 60)]) if not pol.burstLimit

rate_limit_key := concat(":", [destination_service, source_principal]) if {
	source_principal
} else := concat(":", [destination_service, "ip", source_ip]) if {
	source_ip
} else := concat(":", [destination_service, "anonymous"])
