# Entrypoint portcullis/authz/decision: one answer per Envoy ext_authz Check.
# Authentication is settled before authorization, so a caller missing a credential hears 401 and
# what to present rather than a 403 from a rule it cannot yet satisfy. The first failing step answers:
#   1. the security data is valid           (403, else every deny rule is in doubt)
#   2. the peer's trust domain is trusted   (403)
#   3. mTLS strict or encryption required:
#      a verified SPIFFE peer               (403)
#   4. the path is unambiguous              (403)
#   5. a required JWT is verified           (401)
#   6. the token's lifetime is acceptable   (401)
#   7. the source's region may call         (403)
#   8. no deny rule matches                 (403)
#   9. an allow rule matches, or defaultAction allows (else 403)
# Allowed answers carry rate_limit when the destination service has one.
package portcullis.authz

import rego.v1

decision := forbidden(concat("", ["invalid security policy: ", sort(request_policy_errors)[0]])) if {
	count(request_policy_errors) > 0
} else := forbidden(concat("", ["trust domain ", source_trust_domain, " is not trusted by cluster ", cluster_label])) if {
	trust_level == "untrusted"
} else := forbidden(concat("", ["mTLS required by ", mtls_requirement, ": no verified SPIFFE identity"])) if {
	mtls_requirement
	not spiffe_source
} else := forbidden("ambiguous request path") if {
	ambiguous_path
} else := unauthenticated(concat("", ["JWT required by ", jwt_missing, ": ", jwt_error]), www_authenticate) if {
	jwt_missing
} else := unauthenticated(concat("", ["JWT rejected by ", token_lifetime_violations[0]]), www_authenticate_invalid) if {
	count(token_lifetime_violations) > 0
} else := forbidden(concat("", ["geo: ", geo_violations[0]])) if {
	count(geo_violations) > 0
} else := forbidden(concat("", ["deny rule ", rule_label(deny_matches[0])])) if {
	count(deny_matches) > 0
} else := allowed(concat("", ["allow rule ", rule_label(allow_matches[0])])) if {
	count(allow_matches) > 0
} else := allowed("default action allow") if {
	default_allow
	trust_level != "limited"
} else := forbidden(concat("", ["limited trust: no rule explicitly allows trust domain ", source_trust_domain])) if {
	trust_level == "limited"
} else := forbidden("default action deny")

cluster_label := v if {
	v := own_cluster
} else := "(unnamed)"

allowed(reason) := {"allowed": true, "reason": reason, "rate_limit": rate_limit}

allowed(reason) := {"allowed": true, "reason": reason} if not rate_limit

# Denial bodies stay generic: the reason is for the audit log, not for the caller to probe with.
forbidden(reason) := {
	"allowed": false,
	"http_status": 403,
	"reason": reason,
	"headers": {"content-type": "text/plain"},
	"body": "access denied",
}

unauthenticated(reason, challenge) := {
	"allowed": false,
	"http_status": 401,
	"reason": reason,
	"headers": object.union({"content-type": "text/plain"}, challenge),
	"body": "authentication required",
}
