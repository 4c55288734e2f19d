# authorization-policy-valid-rules: a condition Istio cannot read makes it skip the whole rule, whatever the
# action (pilot/pkg/security/authz/model.New fails on an unknown attribute and the builder drops the rule).
# An ALLOW rule then allows less, but a DENY rule silently stops denying: `source.namespaces` for
# `source.namespace` is enough. The shape of the policy (fields, types, the action) is object-schema's.
package portcullis.admission

import rego.v1

# Istio's attributes (pkg/config/security): exact keys, and keys that name a header, a claim or filter
# metadata in brackets.
condition_keys := {
	"source.ip", "remote.ip", "source.namespace", "source.serviceAccount", "source.principal", "source.trustDomain",
	"request.auth.principal", "request.auth.audiences", "request.auth.presenter", "destination.ip", "destination.port",
	"connection.sni",
}

condition_key_known(key) if key in condition_keys

condition_key_known(key) if regex.match(`^(request\.headers|request\.auth\.claims)\[.+\]$`, key)

condition_key_known(key) if regex.match(`^experimental\.envoy\.filters\..+\[.+\]$`, key)

violation contains {
	"rule": "authorization-policy-valid-rules",
	"msg": concat("", [
		"AuthorizationPolicy ", field, ".key ", quote(key), " is not an attribute Istio knows, so Istio skips ",
		"spec.rules[", format_int(i, 10), "] entirely (a DENY rule would stop denying): use one of ",
		concat(", ", sort(condition_keys)), ", request.headers[<name>], request.auth.claims[<name>]",
	]),
	"details": {"field": concat("", [field, ".key"]), "key": key},
} if {
	authorization_policy
	spec_changed
	some i, rule in entries(spec, "rules")
	some j, c in entries(rule, "when")
	key := istio_get(c, "key", "")
	is_string(key)
	key != ""
	not condition_key_known(key)
	field := rule_field(i, "when", j)
}
