# Where the Standard meets the mesh.
#
# The injected init container redirects the Pod's traffic to the proxy with iptables, which needs NET_ADMIN
# and NET_RAW: the only thing the mesh adds that the Standard forbids. It may add them (data
# mesh.init.capabilities) when it is the genuine one: the first init container of a Pod, with the injector's
# name and image, confirmed by the injector (input.context.sidecar: it rendered its template for the Pod and
# compared the whole injected part, src/admission/injection/verify.ts), as capabilities-allowlist identifies
# it (admission/injected.rego), in a Pod that carries the injector's status annotation where the injector
# runs, so an author cannot pass a container of their own for it. Everything else about it is held to the namespace's level like any container.
#
# The mesh's own floor (admission/pod_security.rego: no-privileged, no-host-namespaces,
# capabilities-allowlist) denies some of the same fields at every level. Where a floor rule in deny mode
# already reports a field, the Standard's finding for it is left out, so one mistake gets one message.
package portcullis.podsecurity

import rego.v1

import data.portcullis.admission

genuine_init_container := c if {
	admission.group_kind == "/Pod"
	c := spec.initContainers[0]
	is_object(c)
	admission.injected_init_container(c)
	is_string(annotations[status_annotation])
	injector_checks_claims
}

# The injector's trigger (src/admission/injection/trigger.ts): never in the control plane's namespaces nor
# for hostNetwork Pods; else when the Pod's label asks for it, or its namespace's does and the Pod does not
# opt out.
injector_checks_claims if {
	not admission.request_namespace in {"kube-system", "kube-public"}
	object.get(spec, "hostNetwork", false) != true
	injection_asked
}

injection_asked if admission.pod_labels[admission.pod_injection_label] == "true"

injection_asked if {
	object.get(admission.pod_labels, admission.pod_injection_label, null) == null
	admission.mesh_namespace
}

mesh_capability(c, cap) if {
	is_string(cap)
	some allowed in admission.init_capabilities
	admission.capability_name(allowed) == admission.capability_name(cap)
	c == genuine_init_container
}

floor_tag(rule, true) := {"floor": rule}

floor_tag(_, value) := {} if value != true

capability_floor_tag(c, base, cap) := {"floor": "capabilities-allowlist"} if {
	is_string(cap)
	not admission.capability_allowed(container_list(base), c, cap)
} else := {}

container_list(base) := "initContainers" if contains(base, ".initContainers[")

container_list(base) := "containers" if not contains(base, ".initContainers[")

# A floor rule reports what it sees when the spec changed, and is in force unless exempted or set to warn.
floor_reported(f) if {
	admission.pod_spec_changed
	not admission.exempt(f.floor)
	admission.enforcement(f.floor) == "deny"
}
