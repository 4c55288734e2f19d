# Rule 1: the validating webhook runs after mutation, so a Pod of a mesh namespace without the
# proxy means injection was skipped (webhook down, opt-out label, hand-written sidecar) and the
# Pod would talk outside mTLS and ext_authz.
package portcullis.admission

import rego.v1

# The opt-out label stops the injector, but it is set by the Pod's author: it is never an
# exemption here. An opted-out Pod in a mesh namespace needs an operator exemption in data.
injection_expected if pod_labels[pod_injection_label] == "true"

injection_expected if mesh_namespace

# Whose injector adds the sidecar, for messages.
sidecar_owner := "Istio" if sidecar_provider == "istio"

else := "Portcullis"

proxy_container(c) if {
	c.name == proxy_container_name
	container_image_repository(c.image) == proxy_repository
}

has_proxy if {
	some c in pod_spec.containers
	proxy_container(c)
	injected_container("containers", c)
}

# A native sidecar is an init container that keeps running.
has_proxy if {
	some c in pod_spec.initContainers
	c.restartPolicy == "Always"
	proxy_container(c)
	injected_container("initContainers", c)
}

# Only CREATE: the injector never adds a sidecar to an existing Pod, so demanding one on UPDATE
# would strand Pods created before their namespace joined the mesh.
violation contains {
	"rule": "sidecar-required",
	"msg": sidecar_message,
	"details": {"container": proxy_container_name, "namespace": request_namespace},
} if {
	group_kind == "/Pod"
	operation == "CREATE"
	pod_spec
	injection_expected
	object.get(pod_spec, "hostNetwork", false) != true
	not has_proxy
}

sidecar_message := concat("", [
	"Pod opts out of injection with label ", pod_injection_label, "=\"false\" but namespace ",
	quote(request_namespace), " is in the mesh: remove the label so the ", proxy_container_name,
	" sidecar is injected (opting out needs an operator exemption for rule sidecar-required)",
]) if {
	pod_labels[pod_injection_label] == "false"
} else := concat("", [
	"container ", quote(proxy_container_name), " is not the proxy ", sidecar_owner, " injected (its image must come from ",
	proxy_image_repository, " and the injector must confirm it): remove it from the Pod and let the ", sidecar_owner,
	" injector add the sidecar",
]) if {
	some list in ["containers", "initContainers"]
	some c in object.get(pod_spec, list, [])
	c.name == proxy_container_name
} else := concat("", [
	"Pod in mesh namespace ", quote(request_namespace), " has no ", quote(proxy_container_name),
	" sidecar container: create it again so the ", sidecar_owner, " injector adds it",
	" (check the mutating webhook is running and matches this namespace)",
])
