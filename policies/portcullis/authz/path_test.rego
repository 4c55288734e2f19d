package portcullis.authz_test

import rego.v1

open_policy := security("allow", [])

test_ambiguous_paths_refused if {
	every path in [
		"/public/../admin", "/public/./admin", "//admin", "/api//items", "/public/%2e%2e/admin",
		"/public/%2E%2E/admin", "/api%2fadmin", "/api%2Fadmin", "/api%5cadmin", "/api\\admin",
		"/public/..", "/public/.", "/a/b/..?x=1",
	] {
		decide(with_http({"path": path}), open_policy).reason == "ambiguous request path"
	}
}

test_plain_paths_pass if {
	every path in ["/", "/api/items", "/a.b/c..d/.well-known", "/files/report%20v2.pdf", "/x?redirect=//evil/../", "/x#../y"] {
		decide(with_http({"path": path}), open_policy).allowed
	}
}
