package portcullis.admission_test

import rego.v1

istio_namespace(labels) := {"name": "team", "labels": labels, "annotations": {}}

istio_proxy := {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.30.3", "securityContext": {"runAsUser": 1337, "runAsGroup": 1337}}

istio_init := {
	"name": "istio-init",
	"image": "docker.io/istio/proxyv2:1.30.3",
	"securityContext": {"runAsUser": 0, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}},
}

istio_status := "{\"initContainers\":[\"istio-init\"],\"containers\":[\"istio-proxy\"],\"volumes\":[\"istio-envoy\"],\"imagePullSecrets\":null,\"revision\":\"default\"}"

istio_injected := object.union(pod_with({"initContainers": [istio_init], "containers": [app_container, istio_proxy]}), {"metadata": {"annotations": {"sidecar.istio.io/status": istio_status}}})

in_istio(obj, labels) := review("CREATE", obj, null, istio_namespace(labels))

istio_mode := {"sidecar": "istio"}

test_istio_injected_pod_passes if {
	every labels in [{"istio-injection": "enabled"}, {"istio.io/rev": "canary"}] {
		clean(in_istio(istio_injected, labels)) with data.portcullis.config.mesh as istio_mode
	}
}

test_istio_namespace_needs_istios_proxy if {
	inp := in_istio(pod, {"istio-injection": "enabled"})
	only(inp, "sidecar-required") with data.portcullis.config.mesh as istio_mode
	messages(inp, "sidecar-required") == {"Pod in mesh namespace \"team\" has no \"istio-proxy\" sidecar container: create it again so the Istio injector adds it (check the mutating webhook is running and matches this namespace)"} with data.portcullis.config.mesh as istio_mode

	# Without the switch, Istio's labels mean nothing to Portcullis.
	clean(inp)
}

test_istio_revision_label_unless_disabled if {
	clean(in_istio(pod, {"istio.io/rev": "canary", "istio-injection": "disabled"})) with data.portcullis.config.mesh as istio_mode
	clean(in_istio(pod, {"istio-injection": "disabled"})) with data.portcullis.config.mesh as istio_mode
}

test_istio_opt_out_label if {
	opted_out := object.union(pod, {"metadata": {"labels": {"sidecar.istio.io/inject": "false"}}})
	messages(in_istio(opted_out, {"istio-injection": "enabled"}), "sidecar-required") == {"Pod opts out of injection with label sidecar.istio.io/inject=\"false\" but namespace \"team\" is in the mesh: remove the label so the istio-proxy sidecar is injected (opting out needs an operator exemption for rule sidecar-required)"} with data.portcullis.config.mesh as istio_mode
}

test_istio_containers_without_istios_status_are_not_the_sidecar if {
	forged := pod_with({"initContainers": [istio_init], "containers": [app_container, istio_proxy]})
	rules(in_istio(forged, {"istio-injection": "enabled"})) == {"sidecar-required", "sidecar-impersonation", "capabilities-allowlist", "proxy-uid-reserved"} with data.portcullis.config.mesh as istio_mode

	# A status that does not list the container.
	partial := object.union(forged, {"metadata": {"annotations": {"sidecar.istio.io/status": "{\"containers\":[\"istio-proxy\"]}"}}})
	rules(in_istio(partial, {"istio-injection": "enabled"})) == {"sidecar-impersonation", "capabilities-allowlist"} with data.portcullis.config.mesh as istio_mode
	broken := object.union(forged, {"metadata": {"annotations": {"sidecar.istio.io/status": "{not json"}}})
	"sidecar-required" in rules(in_istio(broken, {"istio-injection": "enabled"})) with data.portcullis.config.mesh as istio_mode
}

test_istio_mesh_reserves_the_proxy_uid_and_names if {
	inp := in_istio(object.union(istio_injected, {"spec": {"containers": [object.union(app_container, {"securityContext": {"runAsUser": 1337}}), istio_proxy]}}), {"istio-injection": "enabled"})
	rules(inp) == {"proxy-uid-reserved"} with data.portcullis.config.mesh as istio_mode
	debug := object.union(istio_injected, {"spec": {"ephemeralContainers": [{"name": "shell", "image": "docker.io/istio/proxyv2:1.30.3"}]}})
	rules(review("UPDATE", debug, istio_injected, istio_namespace({"istio-injection": "enabled"}))) == {"sidecar-impersonation"} with data.portcullis.config.mesh as istio_mode
}

test_istio_images_from_a_mirror if {
	mirrored := object.union(istio_injected, {"spec": {
		"initContainers": [object.union(istio_init, {"image": "registry.example.com/istio/proxyv2:1.30.3"})],
		"containers": [app_container, object.union(istio_proxy, {"image": "registry.example.com/istio/proxyv2:1.30.3"})],
	}})
	clean(in_istio(mirrored, {"istio-injection": "enabled"})) with data.portcullis.config.mesh as {"sidecar": "istio", "istio": {"proxy": {"imageRepository": "registry.example.com/istio/proxyv2"}, "init": {"imageRepository": "registry.example.com/istio/proxyv2"}}}
	"sidecar-required" in rules(in_istio(mirrored, {"istio-injection": "enabled"})) with data.portcullis.config.mesh as istio_mode
}
