# Builders for AdmissionReview requests used across the rule tests.
package portcullis.admission_test

import rego.v1

import data.portcullis.admission

plain_namespace := {"name": "team", "labels": {}, "annotations": {}}

mesh_namespace := {"name": "team", "labels": {"portcullis.io/injection": "enabled"}, "annotations": {}}

cluster := {"name": "test", "trustDomain": "cluster.local"}

kinds := {
	"Pod": ["", "v1"],
	"Service": ["", "v1"],
	"ReplicationController": ["", "v1"],
	"Deployment": ["apps", "v1"],
	"StatefulSet": ["apps", "v1"],
	"DaemonSet": ["apps", "v1"],
	"ReplicaSet": ["apps", "v1"],
	"Job": ["batch", "v1"],
	"CronJob": ["batch", "v1"],
	"PeerAuthentication": ["security.istio.io", "v1"],
	"AuthorizationPolicy": ["security.istio.io", "v1"],
	"RequestAuthentication": ["security.istio.io", "v1"],
	"DestinationRule": ["networking.istio.io", "v1"],
	"VirtualService": ["networking.istio.io", "v1"],
	"EnvoyFilter": ["networking.istio.io", "v1alpha3"],
	"ProxyConfig": ["networking.istio.io", "v1beta1"],
	"WasmPlugin": ["extensions.istio.io", "v1alpha1"],
	"TrafficExtension": ["extensions.istio.io", "v1alpha1"],
}

request(operation, obj, old) := {
	"uid": "test",
	"kind": {"group": kinds[k][0], "version": kinds[k][1], "kind": k},
	"namespace": "team",
	"name": object.get(some_object, ["metadata", "name"], ""),
	"operation": operation,
	"userInfo": {"username": "alice@example.com", "groups": ["system:authenticated"]},
	"object": obj,
	"oldObject": old,
} if {
	some_object := [o | some o in [obj, old]; is_object(o)][0]
	k := some_object.kind
}

review(operation, obj, old, namespace) := {
	"request": request(operation, obj, old),
	"context": {"namespace": namespace, "cluster": cluster},
}

create(obj) := review("CREATE", obj, null, plain_namespace)

create_in_mesh(obj) := review("CREATE", obj, null, mesh_namespace)

update(old, obj) := review("UPDATE", obj, old, plain_namespace)

delete_in_mesh(old) := review("DELETE", null, old, mesh_namespace)

# The rules of these files; the Pod Security Standards' pod-security:* rules, which every Pod meets at
# some level, are tested in podsecurity/ (all_violations sees both).
violations(inp) := [v | some v in all_violations(inp); not startswith(v.rule, "pod-security:")]

all_violations(inp) := v if {
	v := admission.violations with input as inp
}

rules(inp) := {v.rule | some v in violations(inp)}

messages(inp, rule) := {v.msg | some v in violations(inp); v.rule == rule}

only(inp, rule) if rules(inp) == {rule}

clean(inp) if count(violations(inp)) == 0

app_container := {"name": "app", "image": "registry.example.com/team/app:1.0.0"}

pod := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "app-1", "namespace": "team", "labels": {"app": "app", "version": "v1"}},
	"spec": {"serviceAccountName": "app", "containers": [app_container]},
}

pod_with(spec) := object.union(pod, {"spec": spec})

pod_with_container(container) := pod_with({"containers": [object.union(app_container, container)]})

proxy_container := {"name": "portcullis-proxy", "image": "docker.io/envoyproxy/envoy:v1.40.0"}

init_container := {
	"name": "portcullis-init",
	"image": "docker.io/istio/proxyv2:1.30.3",
	"securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}},
}

injected_pod := pod_with({"initContainers": [init_container], "containers": [app_container, proxy_container]})

# What the validating webhook adds to the input of a new Pod whose status annotation the injector confirmed.
verified_sidecar := {"verified": true, "initContainers": ["portcullis-init"], "containers": ["portcullis-proxy"]}

verified_native_sidecar := {"verified": true, "initContainers": ["portcullis-init", "portcullis-proxy"], "containers": []}

with_sidecar(inp, claim) := object.union(inp, {"context": {"sidecar": claim}})

# A new Pod in a mesh namespace that the injector vouches for.
create_injected(obj) := with_sidecar(create_in_mesh(obj), verified_sidecar)

deployment_with(pod_spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "app", "namespace": "team"},
	"spec": {
		"replicas": 2,
		"selector": {"matchLabels": {"app": "app"}},
		"template": {"metadata": {"labels": {"app": "app", "version": "v1"}}, "spec": object.union(pod.spec, pod_spec)},
	},
}

istio(kind, name, spec) := {
	"apiVersion": concat("/", kinds[kind]),
	"kind": kind,
	"metadata": {"name": name, "namespace": "team"},
	"spec": spec,
}
