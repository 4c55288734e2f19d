# The injected sidecar against the Standard: only the genuine init container may add NET_ADMIN and NET_RAW.
package portcullis.podsecurity_test

import rego.v1

import data.portcullis.admission

mesh := {"portcullis.io/injection": "enabled"}

status := "sidecar.portcullis.io/status"

# The sidecar as src/admission/injection/defaults.ts renders it (command and arguments left out).
injected_init := {
	"name": "portcullis-init",
	"image": "docker.io/istio/proxyv2:1.30.3",
	"securityContext": {
		"runAsUser": 0, "runAsGroup": 0, "runAsNonRoot": false, "privileged": false,
		"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
		"capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
		"seccompProfile": {"type": "RuntimeDefault"},
	},
}

injected_proxy := {
	"name": "portcullis-proxy",
	"image": "docker.io/envoyproxy/envoy:v1.40.0",
	"securityContext": {
		"runAsUser": 1337, "runAsGroup": 1337, "runAsNonRoot": true, "privileged": false,
		"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]},
		"seccompProfile": {"type": "RuntimeDefault"},
	},
}

# What the validating webhook hands the policy when the injector confirms the claim.
confirmed := {"verified": true, "initContainers": ["portcullis-init"], "containers": ["portcullis-proxy"]}

# A review as the validating webhook builds it: the injector's answer on the claim beside the object.
mesh_review(pod, labels) := object.union(review(pod, labels), {"context": {"sidecar": confirmed}})

injected(pod) := json.patch(pod, [
	{"op": "add", "path": "/metadata/annotations", "value": {status: "{\"initContainers\":[\"portcullis-init\"],\"containers\":[\"portcullis-proxy\"],\"template\":\"t\"}"}},
	{"op": "add", "path": "/spec/initContainers/0", "value": injected_init},
	{"op": "add", "path": "/spec/containers/-", "value": injected_proxy},
])

# [rule, enforcement, container] of every finding.
mesh_outcome(pod, labels) := {[v.rule, v.enforcement, container_of(field)] |
	some v in admission.violations with input as mesh_review(pod, labels)
	startswith(v.rule, "pod-security:")
	some field in v.details.fields
}

container_of(field) := {
	"spec.initContainers[0]": "portcullis-init", "spec.initContainers[1]": "init",
	"spec.containers[0]": "app", "spec.containers[1]": "portcullis-proxy",
}[concat(".", array.slice(split(field, "."), 0, 2))]

test_injected_pod_passes_baseline if {
	mesh_outcome(injected(baseline_pod), mesh) == {
		["pod-security:allowPrivilegeEscalation", "warn", "init"], ["pod-security:allowPrivilegeEscalation", "warn", "app"],
		["pod-security:capabilities_restricted", "warn", "init"], ["pod-security:capabilities_restricted", "warn", "app"],
		["pod-security:runAsNonRoot", "warn", "init"], ["pod-security:runAsNonRoot", "warn", "app"],
		["pod-security:seccompProfile_restricted", "warn", "init"], ["pod-security:seccompProfile_restricted", "warn", "app"],
		# The genuine init container runs as root: only its capabilities are excepted.
		["pod-security:runAsNonRoot", "warn", "portcullis-init"], ["pod-security:runAsUser", "warn", "portcullis-init"],
	}
	[v | some v in admission.violations with input as mesh_review(injected(baseline_pod), object.union(mesh, enforcing("baseline")))] == []
}

# At restricted the proxy passes with the application's Pod-level settings; the init container is
# refused for running as root, never for its two capabilities.
test_injected_pod_at_restricted if {
	mesh_outcome(injected(restricted_pod), object.union(mesh, enforcing("restricted"))) == {
		["pod-security:runAsNonRoot", "deny", "portcullis-init"], ["pod-security:runAsUser", "deny", "portcullis-init"],
	}
	non_root_init := json.patch(injected(restricted_pod), [
		{"op": "replace", "path": "/spec/initContainers/0/securityContext/runAsUser", "value": 1338},
		{"op": "replace", "path": "/spec/initContainers/0/securityContext/runAsNonRoot", "value": true},
	])
	mesh_outcome(non_root_init, object.union(mesh, enforcing("restricted"))) == set()
}

test_only_the_genuine_init_container_adds_net_admin if {
	labels := object.union(mesh, enforcing("baseline"))
	genuine := injected(baseline_pod)
	[name |
		some [name, pod, pod_labels] in [
			["no status annotation", json.patch(genuine, [{"op": "remove", "path": "/metadata/annotations"}]), labels],
			["outside the mesh", genuine, enforcing("baseline")],
			["opted out in the mesh", json.patch(genuine, [{"op": "add", "path": "/metadata/labels/sidecar.portcullis.io~1inject", "value": "false"}]), labels],
			["not first", json.patch(genuine, [{"op": "move", "from": "/spec/initContainers/0", "path": "/spec/initContainers/1"}]), labels],
			["another image", json.patch(genuine, [{"op": "replace", "path": "/spec/initContainers/0/image", "value": "registry.example.com/team/iptables:1"}]), labels],
			["another name", json.patch(genuine, [{"op": "replace", "path": "/spec/initContainers/0/name", "value": "mesh-init"}]), labels],
			["a regular container", json.patch(genuine, [{"op": "move", "from": "/spec/initContainers/0", "path": "/spec/containers/0"}]), labels],
			["hostNetwork", json.patch(genuine, [{"op": "add", "path": "/spec/hostNetwork", "value": true}]), labels],
			["in a template", deployment(genuine), labels],
		]
		not {"NET_ADMIN", "NET_RAW"} == net_capabilities_refused(pod, pod_labels)
	] == []
	net_capabilities_refused(genuine, labels) == set()
	unconfirmed := object.union(mesh_review(genuine, labels), {"context": {"sidecar": {"verified": false, "reason": "differs"}}})
	{cap |
		some v in pod_security(unconfirmed)
		v.rule == "pod-security:capabilities_baseline"
		some cap in ["NET_ADMIN", "NET_RAW"]
		contains(v.msg, concat("", ["\"", cap, "\""]))
	} == {"NET_ADMIN", "NET_RAW"}
	asked := json.patch(genuine, [{"op": "add", "path": "/metadata/labels/sidecar.portcullis.io~1inject", "value": "true"}])
	net_capabilities_refused(asked, enforcing("baseline")) == set()
}

net_capabilities_refused(pod, labels) := {cap |
	some v in pod_security(mesh_review(pod, labels))
	v.rule == "pod-security:capabilities_baseline"
	some cap in ["NET_ADMIN", "NET_RAW"]
	contains(v.msg, concat("", ["\"", cap, "\""]))
}

test_genuine_init_container_adds_nothing_else if {
	pod := json.patch(injected(baseline_pod), [{"op": "add", "path": "/spec/initContainers/0/securityContext/capabilities/add/-", "value": "SYS_ADMIN"}])
	{[v.rule, v.details.field] | some v in pod_security(mesh_review(pod, object.union(mesh, enforcing("baseline"))))} == {
		["pod-security:capabilities_baseline", "spec.initContainers[0].securityContext.capabilities.add[2]"],
	}
	privileged := json.patch(injected(baseline_pod), [{"op": "replace", "path": "/spec/initContainers/0/securityContext/privileged", "value": true}])
	"pod-security:privileged" in {v.rule | some v in pod_security(mesh_review(privileged, object.union(mesh, enforcing("baseline"))))}
}
