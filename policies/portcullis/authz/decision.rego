package portcullis.authz

import rego.v1

default decision := {"allowed": false, "http_status": 403, "reason": "no rule allowed the request"}

decision := {"allowed": true, "reason": "same namespace"} if {
	input.mesh.source.namespace == input.mesh.destination.namespace
}
