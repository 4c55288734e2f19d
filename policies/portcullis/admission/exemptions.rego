# Exemptions come only from operator data, never from the object: its author could otherwise
# exempt themselves. Every entry is a glob with "/" as the only separator, so "*" stays inside one
# segment and "**" crosses segments:
#   namespaces       "team-*"
#   serviceAccounts  "<namespace>/<name>" of the workload's ServiceAccount (Pods and pod templates)
#   objects          "<Kind>/<namespace>/<name>"; a Pod made by a controller is matched by its
#                    generateName, e.g. "Pod/payments/payment-service-*"
package portcullis.admission

import rego.v1

globally_exempt if exempt_by(exemptions)

exempt(_) if globally_exempt

exempt(rule) if exempt_by(exemptions.rules[rule])

exempt_by(e) if matches_any(e.namespaces, request_namespace)

exempt_by(e) if matches_any(e.serviceAccounts, service_account_ref)

exempt_by(e) if matches_any(e.objects, object_ref)

# Exact names are a membership test; only real patterns pay for glob matching, which is costly in
# the WASM engine.
matches_any(patterns, value) if value in patterns

matches_any(patterns, value) if {
	some pattern in patterns
	glob_pattern(pattern)
	glob.match(pattern, ["/"], value)
}

glob_special := ["*", "?", "[", "{", "\\"]

glob_pattern(pattern) if {
	some special in glob_special
	contains(pattern, special)
}
