# Optional mutation policies: RFC 6902 operations applied after sidecar injection.
package portcullis.admission

import rego.v1

patches := []
