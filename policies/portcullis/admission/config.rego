# Operator settings from data.portcullis.config. Every value has a default equal to the shipped
# config/data.json, so a partial operator bundle (or one that omits a section) degrades to the
# shipped behaviour instead of silently switching a rule off. Exemptions alone default to none.
package portcullis.admission

import rego.v1

default config := {}

config := data.portcullis.config

mesh := object.get(config, "mesh", {})

injection_label := object.get(mesh, "injectionLabel", "portcullis.io/injection")

# Whose proxy the mesh runs (admission.injection.provider writes it here): "portcullis", injected by
# Portcullis, or "istio", injected by Istio's webhook with Portcullis as its ext_authz (istio_sidecar.rego).
sidecar_provider := object.get(mesh, "sidecar", "portcullis")

# The sidecar's names: Istio's (mesh.istio overrides them, e.g. a mirror of proxyv2) or those of mesh.
mesh_sidecar := object.union(istio_sidecar_defaults, object.get(mesh, "istio", {})) if {
	sidecar_provider == "istio"
} else := mesh

pod_injection_label := object.get(mesh_sidecar, "podInjectionLabel", "sidecar.portcullis.io/inject")

root_namespace := object.get(mesh, "rootNamespace", "istio-system")

in_mesh_host_suffixes := object.get(mesh, "inMeshHostSuffixes", [])

proxy_container_name := object.get(mesh_sidecar, ["proxy", "containerName"], "portcullis-proxy")

proxy_image_repository := object.get(mesh_sidecar, ["proxy", "imageRepository"], "docker.io/envoyproxy/envoy")

# Normalized (image.rego) once per evaluation, for the comparisons with every container's image. A value
# that is no image reference (bad operator data) is null, equal to no image's repository: undefined would
# leave out whatever holds it too (sidecar_identities, and with it the reserved names).
proxy_repository := r if {
	r := repository(proxy_image_repository)
} else := null

# The redirect lets the proxy's own traffic through by its UID and GID (values.proxy.uid of the injector).
proxy_uid := object.get(mesh_sidecar, ["proxy", "uid"], 1337)

proxy_gid := object.get(mesh_sidecar, ["proxy", "gid"], proxy_uid)

init_container_name := object.get(mesh_sidecar, ["init", "containerName"], "portcullis-init")

init_image_repository := object.get(mesh_sidecar, ["init", "imageRepository"], "docker.io/istio/proxyv2")

init_repository := r if {
	r := repository(init_image_repository)
} else := null

init_capabilities := object.get(mesh_sidecar, ["init", "capabilities"], ["NET_ADMIN", "NET_RAW"])

# The node mode's init container (admission.injection.redirect: node): it only checks the redirect the node
# agent installed, so it has no exception at all; its name and image are the sidecar's all the same.
validation_container_name := object.get(mesh, ["validation", "containerName"], "portcullis-validation")

validation_image_repository := object.get(mesh, ["validation", "imageRepository"], "ghcr.io/portcullis/portcullis")

validation_repository := r if {
	r := repository(validation_image_repository)
} else := null

default_deny_policy_name := object.get(mesh, ["defaultDenyPolicy", "name"], "default-deny")

# The namespace controller must be able to empty a terminating namespace, or it never goes away.
# Without per-controller credentials it acts as system:kube-controller-manager.
default_deny_deleters := object.get(mesh, ["defaultDenyPolicy", "deletableBy"], [
	"system:serviceaccount:kube-system:namespace-controller",
	"system:serviceaccount:kube-system:generic-garbage-collector",
	"system:kube-controller-manager",
])

# Only the namespace controller, emptying a terminating root namespace, may delete the mesh-wide
# PeerAuthentication. The garbage collector is left out on purpose: anyone who may edit the policy's
# metadata could otherwise give it an owner and delete that owner.
mesh_wide_peer_authentication_deleters := object.get(mesh, ["meshWidePeerAuthentication", "deletableBy"], [
	"system:serviceaccount:kube-system:namespace-controller",
])

allowed_capabilities := object.get(config, ["allowlists", "capabilities"], ["NET_BIND_SERVICE"])

allowed_image_registries := object.get(config, ["allowlists", "imageRegistries"], ["registry.example.com", "ghcr.io/portcullis", "docker.io/envoyproxy/envoy", "docker.io/istio/proxyv2"])

allowed_jwt_issuers := object.get(config, ["allowlists", "jwtIssuers"], ["https://issuer.example.com"])

# Traffic the sidecar may be bypassed for (traffic-interception); nothing by default.
allowed_excluded_inbound_ports := object.get(config, ["allowlists", "excludedInboundPorts"], [])

allowed_excluded_outbound_ports := object.get(config, ["allowlists", "excludedOutboundPorts"], [])

allowed_excluded_outbound_ip_ranges := object.get(config, ["allowlists", "excludedOutboundIPRanges"], [])

# Namespaces (names or globs) per kind where Istio kinds that change the proxy may be created; none by default.
allowed_proxy_extensions := object.get(config, ["allowlists", "proxyExtensions"], {})

required_pod_labels := object.get(config, "requiredPodLabels", ["app", "version"])

exemptions := object.get(config, "exemptions", {})

mutations := object.get(config, "mutations", {})
