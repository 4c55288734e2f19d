package portcullis.admission_test

import rego.v1

test_mesh_pod_with_injected_sidecar_allowed if clean(create_injected(injected_pod))

test_mesh_pod_with_unconfirmed_sidecar_denied if {
	# The same containers, written by the author: nothing vouches for them.
	rules(create_in_mesh(injected_pod)) == {"sidecar-required", "sidecar-impersonation", "capabilities-allowlist"}
}

test_mesh_pod_without_sidecar_denied if {
	inp := create_in_mesh(pod)
	only(inp, "sidecar-required")
	messages(inp, "sidecar-required") == {"Pod in mesh namespace \"team\" has no \"portcullis-proxy\" sidecar container: create it again so the Portcullis injector adds it (check the mutating webhook is running and matches this namespace)"}
}

test_pod_outside_mesh_needs_no_sidecar if clean(create(pod))

test_disabled_namespace_needs_no_sidecar if {
	ns := object.union(mesh_namespace, {"labels": {"portcullis.io/injection": "disabled"}})
	clean(review("CREATE", pod, null, ns))
}

test_unknown_namespace_needs_no_sidecar if clean(review("CREATE", pod, null, null))

test_native_sidecar_accepted if {
	native := object.union(proxy_container, {"restartPolicy": "Always"})
	clean(with_sidecar(create_in_mesh(pod_with({"initContainers": [init_container, native]})), verified_native_sidecar))
}

test_init_container_proxy_without_always_is_not_a_sidecar if {
	only(with_sidecar(create_in_mesh(pod_with({"initContainers": [proxy_container]})), verified_native_sidecar), "sidecar-required")
}

test_opt_out_label_is_not_an_exemption if {
	opted_out := object.union(pod, {"metadata": {"labels": {"sidecar.portcullis.io/inject": "false"}}})
	inp := create_in_mesh(opted_out)
	only(inp, "sidecar-required")
	messages(inp, "sidecar-required") == {"Pod opts out of injection with label sidecar.portcullis.io/inject=\"false\" but namespace \"team\" is in the mesh: remove the label so the portcullis-proxy sidecar is injected (opting out needs an operator exemption for rule sidecar-required)"}
}

test_opt_out_with_operator_exemption_allowed if {
	opted_out := object.union(pod, {"metadata": {"labels": {"sidecar.portcullis.io/inject": "false"}}})
	clean(create_in_mesh(opted_out)) with data.portcullis.config.exemptions.rules as {"sidecar-required": {"objects": ["Pod/team/app-*"]}}
}

test_opt_in_label_outside_mesh_namespace_requires_sidecar if {
	opted_in := object.union(pod, {"metadata": {"labels": {"sidecar.portcullis.io/inject": "true"}}})
	only(create(opted_in), "sidecar-required")
}

test_host_network_pod_is_never_injected if {
	inp := create_in_mesh(pod_with({"hostNetwork": true}))
	rules(inp) == {"no-host-namespaces"}
}

test_proxy_name_with_foreign_image_denied if {
	fake := object.union(proxy_container, {"image": "registry.example.com/team/envoy:1.0"})
	inp := create_in_mesh(pod_with({"containers": [app_container, fake]}))
	rules(inp) == {"sidecar-required", "sidecar-impersonation"}
	messages(inp, "sidecar-required") == {"container \"portcullis-proxy\" is not the proxy Portcullis injected (its image must come from docker.io/envoyproxy/envoy and the injector must confirm it): remove it from the Pod and let the Portcullis injector add the sidecar"}
}

test_sidecar_rule_only_on_create if {
	old := object.union(pod, {"metadata": {"labels": {"extra": "1"}}})
	inp := review("UPDATE", pod_with({"containers": [object.union(app_container, {"image": "registry.example.com/team/app:1.0.1"})]}), old, mesh_namespace)
	clean(inp)
}

test_sidecar_rule_only_for_pods if {
	clean(create_in_mesh(deployment_with({})))
}

test_custom_injection_label_and_proxy_name if {
	ns := object.union(mesh_namespace, {"labels": {"mesh.example.com/enabled": "enabled"}})
	sidecar := {"name": "envoy", "image": "registry.example.com/mesh/envoy:1.30"}
	inp := with_sidecar(review("CREATE", pod_with({"containers": [app_container, sidecar]}), null, ns), {"verified": true, "initContainers": [], "containers": ["envoy"]})
	clean(inp) with data.portcullis.config.mesh.injectionLabel as "mesh.example.com/enabled"
		with data.portcullis.config.mesh.proxy as {"containerName": "envoy", "imageRepository": "registry.example.com/mesh/envoy"}
	only(review("CREATE", pod, null, ns), "sidecar-required") with data.portcullis.config.mesh.injectionLabel as "mesh.example.com/enabled"
}
