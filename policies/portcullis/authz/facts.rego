# Request facts the rules read. TypeScript gathers them under input.mesh; when a fact is absent the
# policy falls back to what Envoy itself verified in `attributes`, so it also decides correctly when
# run unchanged by opa-envoy-plugin.
package portcullis.authz

import rego.v1

nonempty(s) := s if {
	is_string(s)
	s != ""
}

# ["<trust domain>", "ns", "<namespace>", "sa", "<service account>"] for a SPIFFE ID.
spiffe_parts(id) := split(substring(id, 9, -1), "/") if startswith(id, "spiffe://")

# Source identity. With input.mesh present TypeScript has already decided which identity is verified
# (peer certificate, or XFCC only when trusted), so an empty principal there means none.
source_principal := nonempty(input.mesh.source.principal) if input.mesh

source_principal := nonempty(input.attributes.source.principal) if not input.mesh

source_trust_domain := v if {
	v := nonempty(input.mesh.source.trust_domain)
} else := nonempty(spiffe_parts(source_principal)[0])

source_namespace := v if {
	v := nonempty(input.mesh.source.namespace)
} else := ns if {
	parts := spiffe_parts(source_principal)
	parts[1] == "ns"
	ns := nonempty(parts[2])
}

source_service_account := v if {
	v := nonempty(input.mesh.source.service_account)
} else := sa if {
	parts := spiffe_parts(source_principal)
	parts[3] == "sa"
	sa := nonempty(parts[4])
}

# Envoy's fields arrive as protojson writes them (socketAddress, contextExtensions), as opa-envoy-plugin
# builds its input; the proto names (socket_address, context_extensions) are accepted too.
source_ip := v if {
	v := nonempty(input.mesh.source.ip)
} else := v if {
	v := nonempty(input.attributes.source.address.socketAddress.address)
} else := nonempty(input.attributes.source.address.socket_address.address)

destination_principal := v if {
	v := nonempty(input.mesh.destination.principal)
} else := nonempty(input.attributes.destination.principal)

destination_namespace := v if {
	v := nonempty(input.mesh.destination.namespace)
} else := ns if {
	parts := spiffe_parts(destination_principal)
	parts[1] == "ns"
	ns := nonempty(parts[2])
}

destination_service_account := v if {
	v := nonempty(input.mesh.destination.service_account)
} else := sa if {
	parts := spiffe_parts(destination_principal)
	parts[3] == "sa"
	sa := nonempty(parts[4])
}

# The service whose policies apply. Most trusted source first: what TypeScript resolved, the name
# the operator pinned on the Envoy route, the workload's own labels; the Host header comes last
# because the caller chooses it.
destination_service := v if {
	v := nonempty(input.mesh.destination.service)
} else := v if {
	v := nonempty(input.attributes.contextExtensions.service)
} else := v if {
	v := nonempty(input.attributes.context_extensions.service)
} else := v if {
	v := nonempty(input.mesh.destination.labels.app)
} else := v if {
	v := nonempty(input.mesh.destination.labels["app.kubernetes.io/name"])
} else := host_service

host_service := nonempty(split(split(lower(request_host), ":")[0], ".")[0])

request_host := v if {
	v := nonempty(input.attributes.request.http.host)
} else := nonempty(input.attributes.request.http.headers[":authority"])

request_method := input.attributes.request.http.method

# The path as Envoy forwards it, without query and fragment: rules are written for paths, and
# parameters must not be able to satisfy a path prefix.
request_path := split(split(input.attributes.request.http.path, "?")[0], "#")[0] if {
	is_string(input.attributes.request.http.path)
} else := concat("/", array.concat([""], input.parsed_path)) if is_array(input.parsed_path)
