package portcullis.admission_test

import rego.v1

test_plain_pod_is_clean if clean(create(pod))

test_privileged_container_denied if {
	inp := create(pod_with_container({"securityContext": {"privileged": true}}))
	only(inp, "no-privileged")
	v := violations(inp)[0]
	v.enforcement == "deny"
	v.details == {"container": "app", "field": "spec.containers[0].securityContext.privileged"}
	v.msg == "container \"app\" runs privileged: remove spec.containers[0].securityContext.privileged or set it to false"
}

test_privileged_false_allowed if clean(create(pod_with_container({"securityContext": {"privileged": false}})))

test_privileged_init_and_ephemeral_containers_denied if {
	debug := object.union(app_container, {"name": "debug", "securityContext": {"privileged": true}})
	inp := create(pod_with({"initContainers": [debug], "ephemeralContainers": [debug]}))
	{v.details.field | some v in violations(inp)} == {
		"spec.initContainers[0].securityContext.privileged",
		"spec.ephemeralContainers[0].securityContext.privileged",
	}
}

test_host_namespaces_denied if {
	inp := create(pod_with({"hostNetwork": true, "hostPID": true, "hostIPC": true}))
	only(inp, "no-host-namespaces")
	{v.details.field | some v in violations(inp)} == {"spec.hostNetwork", "spec.hostPID", "spec.hostIPC"}
	"Pod sets spec.hostPID: true, sharing the node's namespace: remove spec.hostPID or set it to false" in messages(inp, "no-host-namespaces")
}

test_host_namespaces_false_allowed if clean(create(pod_with({"hostNetwork": false, "hostPID": false, "hostIPC": false})))

test_added_capability_outside_allowlist_denied if {
	inp := create(pod_with_container({"securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}))
	only(inp, "capabilities-allowlist")
	messages(inp, "capabilities-allowlist") == {"container \"app\" adds capability SYS_ADMIN in spec.containers[0].securityContext.capabilities.add: remove it; allowed capabilities: NET_BIND_SERVICE"}
}

test_allowlisted_capability_allowed_in_any_spelling if {
	clean(create(pod_with_container({"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "cap_net_bind_service"]}}})))
}

test_capability_allowlist_from_data if {
	inp := create(pod_with_container({"securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}}))
	clean(inp) with data.portcullis.config.allowlists.capabilities as ["SYS_PTRACE"]
}

test_empty_capability_allowlist_message if {
	inp := create(pod_with_container({"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}}))
	messages(inp, "capabilities-allowlist") == {"container \"app\" adds capability NET_BIND_SERVICE in spec.containers[0].securityContext.capabilities.add: remove it; no capability may be added"} with data.portcullis.config.allowlists.capabilities as []
}

test_injected_init_container_may_add_net_admin_and_net_raw if clean(create_injected(injected_pod))

test_injected_init_container_limited_to_its_capabilities if {
	init := object.union(init_container, {"securityContext": {"capabilities": {"add": ["NET_ADMIN", "SYS_ADMIN"]}}})
	inp := create_injected(pod_with({"initContainers": [init], "containers": [app_container, proxy_container]}))
	{v.details.capability | some v in violations(inp)} == {"SYS_ADMIN"}
}

test_init_container_name_without_injected_image_gets_no_capabilities if {
	impostor := object.union(init_container, {"image": "registry.example.com/team/iptables:1.0"})
	inp := create(pod_with({"initContainers": [impostor]}))
	only(inp, "capabilities-allowlist")
	msgs := messages(inp, "capabilities-allowlist")
	count(msgs) == 2
	"container \"portcullis-init\" adds capability NET_ADMIN in spec.initContainers[0].securityContext.capabilities.add: remove it (only the injected portcullis-init init container from docker.io/istio/proxyv2 may add NET_ADMIN, NET_RAW)" in msgs
}

test_init_capabilities_only_for_init_containers if {
	regular := object.union(init_container, {"name": "portcullis-init"})
	inp := create(pod_with({"containers": [app_container, regular]}))
	{v.details.capability | some v in violations(inp)} == {"NET_ADMIN", "NET_RAW"}
}

test_injected_init_identity_from_data if {
	init := object.union(init_container, {"name": "mesh-init", "image": "registry.example.com/mesh/init:2"})
	inp := with_sidecar(create(pod_with({"initContainers": [init]})), {"verified": true, "initContainers": ["mesh-init"], "containers": []})
	clean(inp) with data.portcullis.config.mesh.init as {
		"containerName": "mesh-init",
		"imageRepository": "registry.example.com/mesh/init",
		"capabilities": ["NET_ADMIN", "NET_RAW"],
	}
	rules(inp) == {"capabilities-allowlist"}
	rules(create(pod_with({"initContainers": [init]}))) == {"capabilities-allowlist"} with data.portcullis.config.mesh.init as {
		"containerName": "mesh-init",
		"imageRepository": "registry.example.com/mesh/init",
		"capabilities": ["NET_ADMIN", "NET_RAW"],
	}
}
