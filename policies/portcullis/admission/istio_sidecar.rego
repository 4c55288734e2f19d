# Istio's proxy as the mesh's sidecar (mesh.sidecar "istio"): Istio's webhook injects istio-proxy and
# istio-init into the namespaces it is enabled in, and Portcullis judges them with the same rules,
# serving as Istio's ext_authz. Istio's injection cannot be checked here the way Portcullis checks its own
# (it renders its template itself): its containers count as injected when the Pod carries Istio's status
# annotation and it lists them. That is what Istio itself relies on; a Pod's author can write both, and
# then has taken its own Pod out of the mesh, which STRICT peers and their ext_authz still refuse.
package portcullis.admission

import rego.v1

istio_sidecar_defaults := {
	"proxy": {"containerName": "istio-proxy", "imageRepository": "docker.io/istio/proxyv2", "uid": 1337, "gid": 1337},
	"init": {"containerName": "istio-init", "imageRepository": "docker.io/istio/proxyv2", "capabilities": ["NET_ADMIN", "NET_RAW"]},
	"podInjectionLabel": "sidecar.istio.io/inject",
	"statusAnnotation": "sidecar.istio.io/status",
}

# Istio's own namespace labels: istio-injection=enabled, or a revision label (unless injection is disabled).
mesh_namespace if {
	sidecar_provider == "istio"
	namespace_labels["istio-injection"] == "enabled"
}

mesh_namespace if {
	sidecar_provider == "istio"
	is_string(namespace_labels["istio.io/rev"])
	not namespace_labels["istio-injection"] == "disabled"
}

istio_status := status if {
	text := object.get(pod_annotations, mesh_sidecar.statusAnnotation, null)
	is_string(text)
	json.is_valid(text)
	status := json.unmarshal(text)
	is_object(status)
}

injected_container(_, c) if {
	sidecar_provider == "istio"
	group_kind == "/Pod"
	operation == "CREATE"
	some list in ["containers", "initContainers"]
	c.name in object.get(istio_status, list, [])
}
