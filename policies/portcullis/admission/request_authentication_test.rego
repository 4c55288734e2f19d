package portcullis.admission_test

import rego.v1

request_authentication(rules) := istio("RequestAuthentication", "jwt", {"selector": {"matchLabels": {"app": "a"}}, "jwtRules": rules})

test_allowed_issuer_with_https_jwks_allowed if {
	clean(create(request_authentication([{"issuer": "https://issuer.example.com", "jwksUri": "https://issuer.example.com/.well-known/jwks.json"}])))
}

test_allowed_issuer_with_discovery_or_inline_jwks_allowed if {
	clean(create(request_authentication([{"issuer": "https://issuer.example.com"}, {"issuer": "https://issuer.example.com", "jwks": "{\"keys\":[]}"}])))
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
