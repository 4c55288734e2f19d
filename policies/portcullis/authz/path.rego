# Paths that one hop may read differently from the next (dot segments, empty segments, encoded
# separators) would let "/public/../admin" pass a rule written for "/public*" while the backend
# serves /admin. Envoy normalises them away with normalize_path, merge_slashes and
# path_with_escaped_slashes_action; whatever still arrives ambiguous is refused rather than guessed.
package portcullis.authz

import rego.v1

ambiguous_markers := ["//", "/./", "/../", "\\", "%2e", "%2f", "%5c"]

ambiguous_path if {
	p := lower(request_path)
	some marker in ambiguous_markers
	contains(p, marker)
}

ambiguous_path if endswith(request_path, "/.")

ambiguous_path if endswith(request_path, "/..")
