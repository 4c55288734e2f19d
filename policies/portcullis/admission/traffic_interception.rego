# Rule 9: all of a Pod's traffic goes through its sidecar. The traffic.portcullis.io annotations
# tell the injector to leave ports or address ranges out of the redirect, and traffic left out skips
# STRICT mutual TLS and ext_authz. The Pod's author writes them, so they are no exemption: every
# port or range must be allowlisted by an operator in policy data (allowlists.*), and
# includeOutboundIPRanges, which would leave out everything it does not name, must be "*" or absent
# (anything else needs an exemption from this rule).
#
# Values are comma-separated with items trimmed, as the injector reads them
# (src/admission/injection/annotations.ts, which also refuses empty items and leading zeros); ports
# compare as numbers, so an allowlist may hold 8080 or "8080".
package portcullis.admission

import rego.v1

traffic_annotation_prefix := "traffic.portcullis.io/"

# annotation -> [allowlist name, allowlist, what bypasses the sidecar]
traffic_port_annotations := {
	"excludeInboundPorts": ["excludedInboundPorts", allowed_excluded_inbound_ports, "inbound traffic to it"],
	"excludeOutboundPorts": ["excludedOutboundPorts", allowed_excluded_outbound_ports, "outbound traffic to it"],
}

pod_annotations := object.get(pod_template, ["metadata", "annotations"], {})

old_pod_annotations := object.get(old_pod_template, ["metadata", "annotations"], {})

# CREATE checks every annotation; UPDATE only those whose value changed, so a rollout restart
# (which adds kubectl.kubernetes.io/restartedAt) never trips over grandfathered values.
traffic_annotation(name) := value if {
	operation == "CREATE"
	value := pod_annotations[concat("", [traffic_annotation_prefix, name])]
}

traffic_annotation(name) := value if {
	operation == "UPDATE"
	key := concat("", [traffic_annotation_prefix, name])
	value := pod_annotations[key]
	value != object.get(old_pod_annotations, key, null)
}

annotation_items(value) := [item |
	some part in split(value, ",")
	item := trim_space(part)
	item != ""
]

annotation_field(name) := concat("", [
	template_prefix, "metadata.annotations[", quote(concat("", [traffic_annotation_prefix, name])), "]",
])

# Allowlist entries may be numbers or text.
port_number(p) := p if is_number(p)

port_number(p) := to_number(digits) if {
	is_string(p)
	regex.match(`^[0-9]{1,5}$`, p)
	digits := trim_left(p, "0")
	digits != ""
}

port_allowlisted(item, allowlist) if {
	some allowed in allowlist
	port_number(allowed) == port_number(item)
}

violation contains {
	"rule": "traffic-interception",
	"msg": concat("", [
		kind_name, " ", field, " lists port ", item, ": ", what,
		" would skip the sidecar (no mutual TLS, no authorization); remove it, or ask an operator to",
		" allowlist it in policy data (allowlists.", list_name, ")",
	]),
	"details": {"field": field, "annotation": concat("", [traffic_annotation_prefix, name]), "value": item},
} if {
	some name, [list_name, allowlist, what] in traffic_port_annotations
	some item in annotation_items(traffic_annotation(name))
	not port_allowlisted(item, allowlist)
	field := annotation_field(name)
}

# A range is allowed when an allowlisted range contains it (IPv4 and IPv6 alike).
ip_range_allowlisted(item) if {
	some allowed in allowed_excluded_outbound_ip_ranges
	net.cidr_contains(allowed, item)
}

violation contains {
	"rule": "traffic-interception",
	"msg": concat("", [
		kind_name, " ", field, " lists ", item, ": outbound traffic to it would skip the sidecar",
		" (no mutual TLS, no authorization); remove it, or ask an operator to allowlist a range containing it",
		" in policy data (allowlists.excludedOutboundIPRanges)",
	]),
	"details": {"field": field, "annotation": concat("", [traffic_annotation_prefix, name]), "value": item},
} if {
	name := "excludeOutboundIPRanges"
	some item in annotation_items(traffic_annotation(name))
	not ip_range_allowlisted(item)
	field := annotation_field(name)
}

violation contains {
	"rule": "traffic-interception",
	"msg": concat("", [
		kind_name, " ", field, " is ", quote(value), ": outbound traffic to every address it does not",
		" name would skip the sidecar (no mutual TLS, no authorization); remove the annotation or set it to",
		" \"*\" (leave ranges out with excludeOutboundIPRanges, allowlisted by an operator in",
		" allowlists.excludedOutboundIPRanges), or ask an operator for an exemption from traffic-interception",
	]),
	"details": {"field": field, "annotation": concat("", [traffic_annotation_prefix, name]), "value": value},
} if {
	name := "includeOutboundIPRanges"
	value := traffic_annotation(name)
	annotation_items(value) != ["*"]
	field := annotation_field(name)
}
