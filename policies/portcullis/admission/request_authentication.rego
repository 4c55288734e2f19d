# Rule 8: end-user JWTs are only trusted from issuers the operators vetted, and their signing keys
# must come over a channel an attacker cannot rewrite.
package portcullis.admission

import rego.v1

request_authentication if group_kind == "security.istio.io/RequestAuthentication"

violation contains {
	"rule": "request-authentication-issuer-allowlist",
	"msg": concat("", [
		"RequestAuthentication ", field, " ", quote(issuer), " is not an allowed JWT issuer: use ",
		issuer_choices, " or ask an operator to add it to allowlists.jwtIssuers",
	]),
	"details": {"field": field, "issuer": issuer},
} if {
	request_authentication
	spec_changed
	some i, jwt_rule in spec.jwtRules
	issuer := object.get(jwt_rule, "issuer", "")
	not issuer in allowed_jwt_issuers
	field := concat("", ["spec.jwtRules[", format_int(i, 10), "].issuer"])
}

issuer_choices := concat("", ["one of ", concat(", ", allowed_jwt_issuers)]) if count(allowed_jwt_issuers) > 0

issuer_choices := "an allowed issuer" if count(allowed_jwt_issuers) == 0

violation contains {
	"rule": "request-authentication-jwks-https",
	"msg": concat("", [
		"RequestAuthentication ", field, " ", quote(uri),
		" is not an https URL: serve the JWKS over https so its signing keys cannot be replaced in transit",
	]),
	"details": {"field": field, "jwksUri": uri},
} if {
	request_authentication
	spec_changed
	some i, jwt_rule in spec.jwtRules
	uri := jwt_rule.jwksUri
	uri != ""
	not startswith(lower(uri), "https://")
	field := concat("", ["spec.jwtRules[", format_int(i, 10), "].jwksUri"])
}
