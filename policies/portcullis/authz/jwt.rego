# JWT requirements of the destination service. TypeScript verifies tokens (signature, issuer,
# audience, expiry); the policy decides whether a verified token is needed and how long-lived it may be.
package portcullis.authz

import rego.v1

jwt_verified if input.mesh.jwt.verified == true

jwt_requirements := [pol | some pol in service_policies; pol.jwtValidation == true]

jwt_error := v if {
	v := nonempty(input.mesh.jwt.error)
} else := "missing"

# The first policy requiring a token, for the reason text.
jwt_missing := policy_label(jwt_requirements[0]) if not jwt_verified

# tokenExpiry bounds the lifetime the issuer granted (exp - iat), not the time left: a token minted
# for a week is refused even in its first hour. Every verified token presented to the service is
# held to it, whether or not the service requires one.
token_lifetime_violations := [concat("", [policy_label(pol), ": ", why]) |
	jwt_verified
	some pol in service_policies
	pol.tokenExpiry
	why := lifetime_violation(duration_seconds(pol.tokenExpiry))
]

lifetime_violation(_) := "token has no exp claim" if not numeric_claim("exp")

lifetime_violation(_) := "token has no iat claim, its lifetime is unknown" if {
	numeric_claim("exp")
	not numeric_claim("iat")
}

lifetime_violation(max) := concat("", ["token lifetime ", format_int(lifetime, 10), "s exceeds tokenExpiry ", format_int(max, 10), "s"]) if {
	numeric_claim("exp")
	numeric_claim("iat")
	lifetime := input.mesh.jwt.claims.exp - input.mesh.jwt.claims.iat
	lifetime > max
}

numeric_claim(name) if is_number(input.mesh.jwt.claims[name])

www_authenticate_missing := {"www-authenticate": `Bearer realm="portcullis"`}

www_authenticate_invalid := {"www-authenticate": `Bearer realm="portcullis", error="invalid_token"`}

# RFC 6750: no error code when no token came, invalid_token for any token that was refused.
www_authenticate := www_authenticate_missing if {
	jwt_error == "missing"
} else := www_authenticate_invalid
