package portcullis.admission_test

import rego.v1

impersonations(inp) := {[v.details.container, v.details.field, v.details.reserved] | some v in violations(inp); v.rule == "sidecar-impersonation"}

test_hand_written_sidecar_names_and_images_denied_in_the_mesh if {
	cases := [
		[pod_with({"containers": [app_container, proxy_container]}), {["portcullis-proxy", "spec.containers[1]", "name"]}],
		[pod_with({"initContainers": [init_container]}), {["portcullis-init", "spec.initContainers[0]", "name"]}],
		[
			pod_with({"containers": [app_container, {"name": "envoy", "image": "docker.io/envoyproxy/envoy:v1.40.0"}]}),
			{["envoy", "spec.containers[1]", "image"]},
		],
		[
			pod_with({"containers": [app_container, {"name": "envoy", "image": "envoyproxy/envoy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]}),
			{["envoy", "spec.containers[1]", "image"]},
		],
		[
			pod_with({"initContainers": [{"name": "iptables", "image": "docker.io/istio/proxyv2:1.30.3"}]}),
			{["iptables", "spec.initContainers[0]", "image"]},
		],
		[
			pod_with({"ephemeralContainers": [{"name": "shell", "image": "docker.io/envoyproxy/envoy:v1.40.0"}]}),
			{["shell", "spec.ephemeralContainers[0]", "image"]},
		],
		# The proxy's name among the init containers (a native sidecar of the author's own).
		[
			pod_with({"initContainers": [object.union(proxy_container, {"restartPolicy": "Always"})]}),
			{["portcullis-proxy", "spec.initContainers[0]", "name"]},
		],
	]
	every c in cases {
		[obj, findings] := c
		impersonations(create_in_mesh(obj)) == findings
	}
}

test_impersonation_message if {
	messages(create_in_mesh(pod_with({"containers": [app_container, proxy_container]})), "sidecar-impersonation") == {"container \"portcullis-proxy\" (spec.containers[1]) has the name of the Portcullis proxy (\"portcullis-proxy\") but was not injected by Portcullis: only the injected sidecar may; remove it (or rename it and use another image) and let the injector add the sidecar"}
	messages(create_in_mesh(pod_with({"initContainers": [{"name": "iptables", "image": "docker.io/istio/proxyv2:1.30.3"}]})), "sidecar-impersonation") == {"container \"iptables\" (spec.initContainers[0]) has the image of the Portcullis init container (\"docker.io/istio/proxyv2\") but was not injected by Portcullis: only the injected sidecar may; remove it (or rename it and use another image) and let the injector add the sidecar"}
}

test_verified_sidecar_is_no_impersonation if {
	impersonations(create_injected(injected_pod)) == set()

	# A second proxy-image container beside the genuine sidecar is not part of it.
	extra := pod_with({"initContainers": [init_container], "containers": [app_container, proxy_container, {"name": "helper", "image": "docker.io/envoyproxy/envoy:v1.40.0"}]})
	impersonations(create_injected(extra)) == {["helper", "spec.containers[2]", "image"]}
}

test_opted_out_pod_with_its_own_proxy_denied if {
	opted_out := object.union(pod_with({"containers": [app_container, proxy_container]}), {"metadata": {"labels": {"sidecar.portcullis.io/inject": "false"}}})
	exempt := {"sidecar-required": {"objects": ["Pod/team/app-*"]}}
	inp := create_in_mesh(opted_out)
	rules(inp) == {"sidecar-required", "sidecar-impersonation"}
	rules(inp) == {"sidecar-impersonation"} with data.portcullis.config.exemptions.rules as exempt
}

test_hand_written_init_container_outside_the_mesh_gets_no_capabilities if {
	# Outside the mesh the names mean nothing, but NET_ADMIN is only ever granted to a confirmed injection.
	inp := create(pod_with({"initContainers": [init_container]}))
	rules(inp) == {"capabilities-allowlist"}
	{v.details.capability | some v in violations(inp)} == {"NET_ADMIN", "NET_RAW"}
	rules(with_sidecar(inp, {"verified": false, "reason": "not injected here", "initContainers": [], "containers": []})) == {"capabilities-allowlist", "sidecar-impersonation"}
}

test_unconfirmed_claim_denied_with_the_injectors_reason if {
	claim := {"verified": false, "reason": "the Pod carries sidecar.portcullis.io/status but not the sidecar Portcullis injects for it (\"portcullis-proxy\" differs in env)", "initContainers": [], "containers": []}
	inp := with_sidecar(create_in_mesh(injected_pod), claim)
	claim.reason in messages(inp, "sidecar-impersonation")

	# Only a new Pod's claim is checked.
	not "sidecar-impersonation" in rules(with_sidecar(create_in_mesh(deployment_with({})), claim))
}

test_impersonation_in_workload_templates if {
	obj := deployment_with({"containers": [app_container, proxy_container]})
	impersonations(create_in_mesh(obj)) == {["portcullis-proxy", "spec.template.spec.containers[1]", "name"]}
	impersonations(create(obj)) == set()
	opted_in := object.union(obj, {"spec": {"template": {"metadata": {"labels": {"sidecar.portcullis.io/inject": "true"}}}}})
	impersonations(create(opted_in)) == {["portcullis-proxy", "spec.template.spec.containers[1]", "name"]}
}

test_impersonation_on_update_judges_what_changed if {
	# Containers the Pod was created with were judged then; a debug container added now is judged now.
	old := injected_pod
	new := object.union(injected_pod, {"spec": {"ephemeralContainers": [{"name": "shell", "image": "docker.io/envoyproxy/envoy:v1.40.0"}]}})
	inp := review("UPDATE", new, old, mesh_namespace)
	impersonations(inp) == {["shell", "spec.ephemeralContainers[0]", "image"]}
	not "capabilities-allowlist" in rules(inp)

	# Swapping the proxy's image on a running Pod makes it another container.
	swapped := pod_with({"initContainers": [init_container], "containers": [app_container, object.union(proxy_container, {"image": "docker.io/envoyproxy/envoy:v6.6.6"})]})
	impersonations(review("UPDATE", swapped, old, mesh_namespace)) == {["portcullis-proxy", "spec.containers[1]", "name"]}
}

# The node mode's init container (admission.injection.redirect: node).
validation_container := {
	"name": "portcullis-validation",
	"image": "ghcr.io/portcullis/portcullis:0.1.0",
	"securityContext": {"runAsUser": 65532, "runAsNonRoot": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
}

node_mode_pod := pod_with({"initContainers": [validation_container], "containers": [app_container, proxy_container]})

verified_node_mode := {"verified": true, "initContainers": ["portcullis-validation"], "containers": ["portcullis-proxy"]}

test_hand_written_validation_container_denied_in_the_mesh if {
	impersonations(create_in_mesh(pod_with({"initContainers": [validation_container]}))) == {["portcullis-validation", "spec.initContainers[0]", "name"]}
	impersonations(create_in_mesh(pod_with({"initContainers": [{"name": "check", "image": "ghcr.io/portcullis/portcullis:0.1.0"}]}))) == {["check", "spec.initContainers[0]", "image"]}
	impersonations(with_sidecar(create_in_mesh(node_mode_pod), verified_node_mode)) == set()
}

# The capabilities exception is the init mode's init container's alone: a verified validation container
# that adds NET_ADMIN (an operator's template) is refused like any container.
test_validation_container_gets_no_capability_exception if {
	privileged := object.union(validation_container, {"securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}})
	inp := with_sidecar(create_in_mesh(pod_with({"initContainers": [privileged], "containers": [app_container, proxy_container]})), verified_node_mode)
	"capabilities-allowlist" in rules(inp)
	not "sidecar-impersonation" in rules(inp)
}

test_validation_container_not_reserved_under_istio if {
	count(data.portcullis.admission.sidecar_identities) == 3
	istio := data.portcullis.admission.sidecar_identities with data.portcullis.config.mesh.sidecar as "istio"
	[id[0] | some id in istio] == ["istio-proxy", "istio-init"]
}

# A configured repository that is not one (a number in operator data) matches no image, and takes nothing
# else with it: the sidecar's names stay reserved.
test_unusable_configured_repository_still_reserves_the_names if {
	inp := create_in_mesh(pod_with({"containers": [app_container, proxy_container]}))
	impersonations(inp) == {["portcullis-proxy", "spec.containers[1]", "name"]} with data.portcullis.config.mesh.proxy.imageRepository as 5
	inp2 := create_in_mesh(pod_with({"initContainers": [init_container]}))
	impersonations(inp2) == {["portcullis-init", "spec.initContainers[0]", "name"]} with data.portcullis.config.mesh.init.imageRepository as 5
	inp3 := create_in_mesh(pod_with({"initContainers": [validation_container]}))
	impersonations(inp3) == {["portcullis-validation", "spec.initContainers[0]", "name"]} with data.portcullis.config.mesh.validation.imageRepository as 5
}
