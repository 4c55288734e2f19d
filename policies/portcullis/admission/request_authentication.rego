# Rule 8: end-user JWTs are only trusted from issuers the operators vetted, and their signing keys
# must come over a channel an attacker cannot rewrite.
package portcullis.admission

import rego.v1

request_authentication if group_kind == "security.istio.io/RequestAuthentication"

# allowlists.jwtIssuers entries are an issuer ("https://issuer.example.com") or an object
# {issuer, jwksUris: [...], allowInlineJwks: false} that also says where the issuer's keys may come from.
jwt_issuer_entries := [entry |
	some e in allowed_jwt_issuers
	entry := jwt_issuer_entry(e)
]

jwt_issuer_entry(e) := {"issuer": e} if is_string(e)

jwt_issuer_entry(e) := e if {
	is_object(e)
	is_string(e.issuer)
}

allowed_jwt_issuer_names := {e.issuer | some e in jwt_issuer_entries}

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
	some i, jwt_rule in entries(spec, "jwtRules")
	issuer := istio_get(jwt_rule, "issuer", "")
	not issuer in allowed_jwt_issuer_names
	field := concat("", ["spec.jwtRules[", format_int(i, 10), "].issuer"])
}

issuer_choices := concat("", ["one of ", concat(", ", sort(allowed_jwt_issuer_names))]) if count(allowed_jwt_issuer_names) > 0

issuer_choices := "an allowed issuer" if count(allowed_jwt_issuer_names) == 0

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
	some i, jwt_rule in entries(spec, "jwtRules")
	uri := istio_get(jwt_rule, "jwksUri", "")
	uri != ""
	not https_url(uri)
	field := concat("", ["spec.jwtRules[", format_int(i, 10), "].jwksUri"])
}

# Only a string can be an https URL; anything else is reported as not one (and by object-schema).
https_url(uri) if {
	is_string(uri)
	startswith(lower(uri), "https://")
}

# The signing keys must be the issuer's: a trusted issuer name with keys from anywhere else lets
# whoever holds those keys mint tokens in the issuer's name. Allowed per issuer:
#   - no jwksUri: Istio finds the keys by OIDC discovery from the issuer itself;
#   - a jwksUri listed in the entry's jwksUris, or, when the entry lists none (a plain-string entry),
#     one under the issuer's own origin (scheme://host[:port]/, compared case-insensitively);
#   - inline jwks only when the entry says allowInlineJwks: true.
# A jwksUri that is not https is left to request-authentication-jwks-https.
jwks_uri_allowed(issuer, uri) if {
	some e in jwt_issuer_entries
	e.issuer == issuer
	uri in e.jwksUris
}

jwks_uri_allowed(issuer, uri) if {
	some e in jwt_issuer_entries
	e.issuer == issuer
	not e.jwksUris
	is_string(uri)
	startswith(lower(uri), concat("", [lower(url_origin(issuer)), "/"]))
}

# "https://login.example.com:8443/realms/a" -> "https://login.example.com:8443"; undefined when the
# issuer is not an absolute URL with a host.
url_origin(url) := concat("/", [parts[0], "", parts[2]]) if {
	parts := split(url, "/")
	count(parts) >= 3
	regex.match(`^[a-zA-Z][a-zA-Z0-9+.-]*:$`, parts[0])
	parts[1] == ""
	regex.match(`^[^?#@\\]+$`, parts[2])
}

inline_jwks_allowed(issuer) if {
	some e in jwt_issuer_entries
	e.issuer == issuer
	e.allowInlineJwks == true
}

jwks_uri_choices(issuer) := concat("", ["use one of ", concat(", ", sort(uris))]) if {
	uris := {uri | some e in jwt_issuer_entries; e.issuer == issuer; some uri in e.jwksUris}
	count(uris) > 0
} else := concat("", ["use a URL under ", url_origin(issuer), "/"]) if {
	url_origin(issuer)
} else := "set the issuer's jwksUris"

violation contains {
	"rule": "request-authentication-jwks-source",
	"msg": concat("", [
		"RequestAuthentication ", field, " ", quote(uri), " is not a key source allowed for issuer ", quote(issuer),
		", so anyone controlling it could sign tokens in that issuer's name: remove jwksUri to fetch the keys",
		" by OIDC discovery from the issuer, ", jwks_uri_choices(issuer),
		", or ask an operator to add it to the issuer's jwksUris in allowlists.jwtIssuers",
	]),
	"details": {"field": field, "issuer": issuer, "jwksUri": uri},
} if {
	request_authentication
	spec_changed
	some i, jwt_rule in entries(spec, "jwtRules")
	issuer := istio_get(jwt_rule, "issuer", "")
	issuer in allowed_jwt_issuer_names
	uri := istio_get(jwt_rule, "jwksUri", "")
	uri != ""
	https_url(uri)
	not jwks_uri_allowed(issuer, uri)
	field := concat("", ["spec.jwtRules[", format_int(i, 10), "].jwksUri"])
}

violation contains {
	"rule": "request-authentication-jwks-source",
	"msg": concat("", [
		"RequestAuthentication ", field, " holds inline keys for issuer ", quote(issuer),
		", so whoever wrote them could sign tokens in that issuer's name: remove jwks to fetch the keys",
		" by OIDC discovery from the issuer (or set an allowed jwksUri), or ask an operator to set",
		" allowInlineJwks: true for this issuer in allowlists.jwtIssuers",
	]),
	"details": {"field": field, "issuer": issuer},
} if {
	request_authentication
	spec_changed
	some i, jwt_rule in entries(spec, "jwtRules")
	issuer := istio_get(jwt_rule, "issuer", "")
	issuer in allowed_jwt_issuer_names
	jwks := istio_get(jwt_rule, "jwks", "")
	jwks != ""
	not inline_jwks_allowed(issuer)
	field := concat("", ["spec.jwtRules[", format_int(i, 10), "].jwks"])
}
