# Istio specs read the way Istio reads them. Istio decodes a spec with the legacy protobuf JSON decoder
# (github.com/golang/protobuf/jsonpb), which takes a field under its JSON name or its proto name
# (portLevelMtls or port_level_mtls; the JSON name wins when both are there), an enum as its name or its
# number (STRICT or 3), and null as "not set". A rule that read only the JSON spelling would miss a
# PERMISSIVE port written as port_level_mtls, so every rule on an Istio kind reads fields with istio_get and
# enums with istio_enum. The names and numbers come from data.portcullis.istio, generated from the pinned
# istio.io/api release by scripts/istio-schema.mjs; object-schema refuses everything else.
package portcullis.admission

import rego.v1

# The schema of the request's kind, when it is an Istio kind some rule judges, read node by node: the
# whole document is large, and OPA (unlike the WASM engine) would convert it for every evaluation.
istio_kind_nodes := data.portcullis.istio.kinds[group_kind].nodes

istio_kind if istio_kind_nodes.spec.t

istio_node(pattern) := istio_kind_nodes[pattern]

# Read once per decision: every field lookup consults it.
default istio_proto_names := {}

istio_proto_names := data.portcullis.istio.protoNames

# The value of field `name` (its JSON name) as Istio reads it, undefined when it is not set.
istio_field(obj, name) := v if {
	v := obj[name]
} else := v if {
	v := obj[istio_proto_names[name]]
}

istio_get(obj, name, fallback) := v if {
	v := istio_field(obj, name)
	v != null
} else := fallback

# An enum value as its name: numbers are turned into names with the enum of the field at `pattern` (a
# pattern of data.portcullis.istio, such as spec.mtls.mode). Anything else is returned as it is, so a rule
# comparing names treats an unknown number or a wrong type as a value that is not allowed.
istio_enum(pattern, v) := name if {
	is_number(v)
	some name, n in istio_node(pattern).e
	n == v
} else := v
