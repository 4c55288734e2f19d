# Which containers are the sidecar Portcullis injected. The sidecar's names and images, and what only
# it may do (run as the proxy's UID, which the traffic redirect lets through untouched; add NET_ADMIN
# to install that redirect), are reserved for it. A Pod's author can write the same containers and the
# status annotation by hand, so a container is the sidecar only on the injector's word:
# input.context.sidecar, which the validating webhook computes for a new Pod carrying the annotation by
# rendering the template for that Pod and comparing the whole injected part (src/admission/injection).
package portcullis.admission

import rego.v1

verified_sidecar := s if {
	s := input.context.sidecar
	s.verified == true
}

injected_container(list, c) if {
	group_kind == "/Pod"
	operation == "CREATE"
	c.name in verified_sidecar[list]
}

# A container a Pod already had, unchanged, was judged when the Pod was created (a Pod's containers
# are immutable but for their image; pods/ephemeralcontainers only adds).
injected_container(list, c) if {
	group_kind == "/Pod"
	operation == "UPDATE"
	c in old_containers[list]
}

# The old object's containers by list, as sets: one lookup per container, however many there are.
old_containers := {list: {c | some c in object.get(old_pod_template, ["spec", list], [])} | some list in container_lists}

# Where the sidecar is injected, so where its names, image and UID mean something: a mesh namespace,
# or a Pod (template) that asks for it. Opted-out Pods of a mesh namespace included: they are refused
# by sidecar-required unless an operator exempts them, and an exemption is no licence to impersonate.
sidecar_scope if injection_expected

# The containers the mesh-bypass rules judge: all of them on CREATE, the ones added or changed on UPDATE
# (a change of the pod's securityContext is judged on its own, in proxy_uid.rego).
bypass_refs := [[list, i] |
	some [list, i] in container_refs
	not unchanged_container(list, pod_spec[list][i])
]

unchanged_container(list, c) if {
	operation == "UPDATE"
	c in old_containers[list]
}
