package portcullis.admission_test

import rego.v1

request_authentication(rules) := istio("RequestAuthentication", "jwt", {"selector": {"matchLabels": {"app": "a"}}, "jwtRules": rules})

test_allowed_issuer_with_https_jwks_allowed if {
	clean(create(request_authentication([{"issuer": "https://issuer.example.com", "jwksUri": "https://issuer.example.com/.well-known/jwks.json"}])))
}

test_allowed_issuer_with_discovery_allowed if {
	clean(create(request_authentication([{"issuer": "https://issuer.example.com"}])))
}

inline_keys := "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"x\",\"e\":\"AQAB\"}]}"

test_inline_jwks_for_an_allowed_issuer_denied if {
	inp := create(request_authentication([{"issuer": "https://issuer.example.com"}, {"issuer": "https://issuer.example.com", "jwks": inline_keys}]))
	only(inp, "request-authentication-jwks-source")
	messages(inp, "request-authentication-jwks-source") == {"RequestAuthentication spec.jwtRules[1].jwks holds inline keys for issuer \"https://issuer.example.com\", so whoever wrote them could sign tokens in that issuer's name: remove jwks to fetch the keys by OIDC discovery from the issuer (or set an allowed jwksUri), or ask an operator to set allowInlineJwks: true for this issuer in allowlists.jwtIssuers"}
	only(create(request_authentication([{"issuer": "https://issuer.example.com", "jwksUri": "https://issuer.example.com/jwks", "jwks": inline_keys}])), "request-authentication-jwks-source")
	only(create(request_authentication([{"issuer": "https://issuer.example.com", "jwks": inline_keys}])), "request-authentication-jwks-source") with data.portcullis.config.allowlists.jwtIssuers as [{"issuer": "https://issuer.example.com", "allowInlineJwks": false}]
}

test_unknown_issuer_denied if {
	inp := create(request_authentication([{"issuer": "https://evil.example.net", "jwksUri": "https://evil.example.net/jwks"}]))
	only(inp, "request-authentication-issuer-allowlist")
	messages(inp, "request-authentication-issuer-allowlist") == {"RequestAuthentication spec.jwtRules[0].issuer \"https://evil.example.net\" is not an allowed JWT issuer: use one of https://issuer.example.com or ask an operator to add it to allowlists.jwtIssuers"}
}

test_missing_issuer_denied if only(create(request_authentication([{"jwksUri": "https://issuer.example.com/jwks"}])), "request-authentication-issuer-allowlist")

test_empty_issuer_allowlist_message if {
	inp := create(request_authentication([{"issuer": "https://issuer.example.com"}]))
	messages(inp, "request-authentication-issuer-allowlist") == {"RequestAuthentication spec.jwtRules[0].issuer \"https://issuer.example.com\" is not an allowed JWT issuer: use an allowed issuer or ask an operator to add it to allowlists.jwtIssuers"} with data.portcullis.config.allowlists.jwtIssuers as []
}

test_issuer_allowlist_from_data if {
	inp := create(request_authentication([{"issuer": "https://login.example.org"}]))
	clean(inp) with data.portcullis.config.allowlists.jwtIssuers as ["https://login.example.org"]
}

test_plain_http_jwks_denied if {
	inp := create(request_authentication([
		{"issuer": "https://issuer.example.com", "jwksUri": "https://issuer.example.com/jwks"},
		{"issuer": "https://issuer.example.com", "jwksUri": "http://issuer.example.com/jwks"},
	]))
	only(inp, "request-authentication-jwks-https")
	messages(inp, "request-authentication-jwks-https") == {"RequestAuthentication spec.jwtRules[1].jwksUri \"http://issuer.example.com/jwks\" is not an https URL: serve the JWKS over https so its signing keys cannot be replaced in transit"}
}

test_empty_jwks_uri_means_discovery if clean(create(request_authentication([{"issuer": "https://issuer.example.com", "jwksUri": ""}])))

test_uppercase_https_scheme_allowed if {
	clean(create(request_authentication([{"issuer": "https://issuer.example.com", "jwksUri": "HTTPS://issuer.example.com/jwks"}])))
}

test_inline_jwks_allowed_when_the_operator_says_so if {
	inp := create(request_authentication([{"issuer": "https://issuer.example.com", "jwks": inline_keys}]))
	clean(inp) with data.portcullis.config.allowlists.jwtIssuers as [{"issuer": "https://issuer.example.com", "allowInlineJwks": true}]
	clean(inp) with data.portcullis.config.allowlists.jwtIssuers as ["https://issuer.example.com", {"issuer": "https://issuer.example.com", "allowInlineJwks": true}]
	only(inp, "request-authentication-jwks-source") with data.portcullis.config.allowlists.jwtIssuers as ["https://issuer.example.com", {"issuer": "https://other.example.com", "allowInlineJwks": true}]
	clean(create(request_authentication([{"issuer": "https://issuer.example.com", "jwks": ""}])))
}

test_jwks_uri_outside_the_issuers_origin_denied if {
	every uri in [
		"https://evil.io/jwks", "https://issuer.example.com.evil.io/jwks", "https://issuer.example.com@evil.io/jwks",
		"https://issuer.example.com:8443/jwks", "https://login.issuer.example.com/jwks", "https://issuer.example.co/jwks",
		"https://issuer.example.com",
	] {
		only(create(request_authentication([{"issuer": "https://issuer.example.com", "jwksUri": uri}])), "request-authentication-jwks-source")
	}
	inp := create(request_authentication([{"issuer": "https://issuer.example.com", "jwksUri": "https://evil.io/jwks"}]))
	messages(inp, "request-authentication-jwks-source") == {"RequestAuthentication spec.jwtRules[0].jwksUri \"https://evil.io/jwks\" is not a key source allowed for issuer \"https://issuer.example.com\", so anyone controlling it could sign tokens in that issuer's name: remove jwksUri to fetch the keys by OIDC discovery from the issuer, use a URL under https://issuer.example.com/, or ask an operator to add it to the issuer's jwksUris in allowlists.jwtIssuers"}
	{v.details.jwksUri | some v in violations(inp)} == {"https://evil.io/jwks"}
}

test_jwks_uri_under_the_issuers_origin_allowed if {
	every uri in ["https://issuer.example.com/jwks", "https://Issuer.Example.com/.well-known/jwks.json", "https://issuer.example.com/realms/b/certs"] {
		clean(create(request_authentication([{"issuer": "https://issuer.example.com", "jwksUri": uri}])))
	}
	inp := create(request_authentication([{"issuer": "https://login.example.org:8443/realms/a", "jwksUri": "https://login.example.org:8443/realms/a/certs"}]))
	clean(inp) with data.portcullis.config.allowlists.jwtIssuers as ["https://login.example.org:8443/realms/a"]
}

test_listed_jwks_uris_replace_the_origin_default if {
	issuers := [{"issuer": "https://issuer.example.com", "jwksUris": ["https://keys.example.net/issuer/jwks.json"]}]
	clean(create(request_authentication([{"issuer": "https://issuer.example.com", "jwksUri": "https://keys.example.net/issuer/jwks.json"}]))) with data.portcullis.config.allowlists.jwtIssuers as issuers
	clean(create(request_authentication([{"issuer": "https://issuer.example.com"}]))) with data.portcullis.config.allowlists.jwtIssuers as issuers
	inp := create(request_authentication([{"issuer": "https://issuer.example.com", "jwksUri": "https://issuer.example.com/jwks"}]))
	only(inp, "request-authentication-jwks-source") with data.portcullis.config.allowlists.jwtIssuers as issuers
	messages(inp, "request-authentication-jwks-source") == {"RequestAuthentication spec.jwtRules[0].jwksUri \"https://issuer.example.com/jwks\" is not a key source allowed for issuer \"https://issuer.example.com\", so anyone controlling it could sign tokens in that issuer's name: remove jwksUri to fetch the keys by OIDC discovery from the issuer, use one of https://keys.example.net/issuer/jwks.json, or ask an operator to add it to the issuer's jwksUris in allowlists.jwtIssuers"} with data.portcullis.config.allowlists.jwtIssuers as issuers
	only(inp, "request-authentication-jwks-source") with data.portcullis.config.allowlists.jwtIssuers as [{"issuer": "https://issuer.example.com", "jwksUris": []}]
}

test_issuer_that_is_not_a_url_needs_listed_jwks_uris if {
	inp := create(request_authentication([{"issuer": "accounts.google.com", "jwksUri": "https://www.googleapis.com/oauth2/v3/certs"}]))
	only(inp, "request-authentication-jwks-source") with data.portcullis.config.allowlists.jwtIssuers as ["accounts.google.com"]
	contains(concat("", messages(inp, "request-authentication-jwks-source")), "from the issuer, set the issuer's jwksUris, or ask") with data.portcullis.config.allowlists.jwtIssuers as ["accounts.google.com"]
	clean(inp) with data.portcullis.config.allowlists.jwtIssuers as [{"issuer": "accounts.google.com", "jwksUris": ["https://www.googleapis.com/oauth2/v3/certs"]}]
}

test_object_issuer_entries_count_for_the_issuer_allowlist if {
	issuers := [{"issuer": "https://login.example.org"}, {"jwksUris": ["https://x"]}, 42]
	clean(create(request_authentication([{"issuer": "https://login.example.org"}]))) with data.portcullis.config.allowlists.jwtIssuers as issuers
	inp := create(request_authentication([{"issuer": "https://evil.example.net"}]))
	messages(inp, "request-authentication-issuer-allowlist") == {"RequestAuthentication spec.jwtRules[0].issuer \"https://evil.example.net\" is not an allowed JWT issuer: use one of https://login.example.org or ask an operator to add it to allowlists.jwtIssuers"} with data.portcullis.config.allowlists.jwtIssuers as issuers
}

test_unknown_issuer_with_foreign_keys_reported_once if {
	only(create(request_authentication([{"issuer": "https://evil.example.net", "jwks": inline_keys}])), "request-authentication-issuer-allowlist")
}
