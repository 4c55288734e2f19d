# How findings become violations: modes and their enforcement, the kinds and operations judged, data
# overrides and exemptions.
package portcullis.podsecurity_test

import rego.v1

import data.portcullis.admission

# Baseline-clean, restricted-failing: no runAsNonRoot anywhere.
restricted_only := unset_pod

outcome(obj, labels) := {[v.rule, v.enforcement, v.details.level] | some v in pod_security(review(obj, labels))}

test_modes_map_to_enforcements if {
	outcome(restricted_only, {}) == {["pod-security:runAsNonRoot", "warn", "restricted:latest"]}
	outcome(restricted_only, {psa("enforce"): "restricted"}) == {["pod-security:runAsNonRoot", "deny", "restricted:latest"]}
	outcome(restricted_only, {psa("warn"): "baseline"}) == {["pod-security:runAsNonRoot", "dryrun", "restricted:latest"]}
	outcome(restricted_only, {psa("warn"): "baseline", psa("audit"): "privileged"}) == set()
	outcome(restricted_only, {psa("enforce"): "privileged", psa("warn"): "privileged", psa("audit"): "restricted", psa("audit-version"): "v1.30"}) == {["pod-security:runAsNonRoot", "dryrun", "restricted:v1.30"]}
}

test_every_finding_has_its_details if {
	pod := with_volumes(baseline_pod, [{"name": "root", "hostPath": {"path": "/"}}])
	[v] := pod_security(review(pod, enforcing("baseline")))
	v == {
		"rule": "pod-security:hostPathVolumes",
		"msg": "volume \"root\" mounts a path of the node (spec.volumes[0].hostPath): use another volume type",
		"enforcement": "deny",
		"details": {"field": "spec.volumes[0].hostPath", "fields": ["spec.volumes[0].hostPath"], "count": 1, "reason": "hostPath volumes", "level": "baseline:latest"},
	}
}

test_data_overrides_and_exemptions if {
	vs := pod_security_answer(review(restricted_only, {psa("enforce"): "restricted"})) with data.portcullis.config.enforcement as {"pod-security:runAsNonRoot": "warn"}
	{v.enforcement | some v in vs} == {"warn"}
	typo := pod_security_answer(review(restricted_only, {})) with data.portcullis.config.enforcement as {"pod-security:runAsNonRoot": "off"}
	{v.enforcement | some v in typo} == {"warn"}
	exempt := {"rules": {"pod-security:runAsNonRoot": {"namespaces": ["team"]}}}
	[v | some v in admission.violations with input as review(restricted_only, {psa("enforce"): "restricted"}) with data.portcullis.config.exemptions as exempt] == []
	everywhere := {"namespaces": ["team"]}
	[v | some v in admission.violations with input as review(with_sc(baseline_pod, "containers", 0, {"privileged": true}), {}) with data.portcullis.config.exemptions as everywhere] == []
}

pod_bearing := {
	"Deployment": ["apps/v1", ["spec", "template"]],
	"StatefulSet": ["apps/v1", ["spec", "template"]],
	"DaemonSet": ["apps/v1", ["spec", "template"]],
	"ReplicaSet": ["apps/v1", ["spec", "template"]],
	"Job": ["batch/v1", ["spec", "template"]],
	"ReplicationController": ["v1", ["spec", "template"]],
	"CronJob": ["batch/v1", ["spec", "jobTemplate", "spec", "template"]],
}

workload(kind, pod) := json.patch({"apiVersion": pod_bearing[kind][0], "kind": kind, "metadata": {"name": "w", "namespace": "team"}, "spec": {}}, [
	{"op": "add", "path": "/spec/jobTemplate", "value": {"spec": {}}},
	{"op": "add", "path": concat("/", array.concat([""], pod_bearing[kind][1])), "value": {"metadata": object.remove(pod.metadata, ["name", "namespace"]), "spec": pod.spec}},
])

test_every_pod_template_is_judged if {
	pod := with_sc(baseline_pod, "initContainers", 0, {"procMount": "Unmasked"})
	[kind |
		some kind, [_, path] in pod_bearing
		fields_by(workload(kind, pod), enforcing("baseline")) != {"procMount": {concat("", [concat(".", path), ".spec.initContainers[0].securityContext.procMount"])}}
	] == []
	service := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "team"}, "spec": pod.spec}
	pod_security(object.union(review(baseline_pod, {}), {"request": {"kind": {"group": "", "version": "v1", "kind": "Service"}, "object": service}})) == []
}

test_templates_are_refused_at_the_enforce_level if {
	d := deployment(restricted_only)
	outcome(d, {psa("enforce"): "restricted"}) == {["pod-security:runAsNonRoot", "deny", "restricted:latest"]}
	outcome(d, {}) == {["pod-security:runAsNonRoot", "warn", "restricted:latest"]}
}

# On update the plugin judges a Pod only when what runs changes (isSignificantPodUpdate), and so does
# Portcullis. A workload is judged when its template changes.
test_updates if {
	bad := with_volumes(baseline_pod, [{"name": "root", "hostPath": {"path": "/"}}])
	labels := enforcing("baseline")
	relabelled := json.patch(bad, [{"op": "add", "path": "/metadata/labels/tier", "value": "web"}])
	pod_security(update_review(bad, relabelled, labels)) == []
	tolerations := json.patch(bad, [{"op": "add", "path": "/spec/tolerations", "value": [{"operator": "Exists"}]}])
	pod_security(update_review(bad, tolerations, labels)) == []
	image := json.patch(bad, [{"op": "replace", "path": "/spec/containers/0/image", "value": "registry.example.com/team/app:1.0.1"}])
	{v.rule | some v in pod_security(update_review(bad, image, labels))} == {"pod-security:hostPathVolumes"}
	debug := json.patch(bad, [{"op": "add", "path": "/spec/ephemeralContainers", "value": [container("debug")]}])
	{v.rule | some v in pod_security(update_review(bad, debug, labels))} == {"pod-security:hostPathVolumes"}
	scaled := json.patch(deployment(bad), [{"op": "add", "path": "/spec/replicas", "value": 5}])
	pod_security(update_review(deployment(bad), scaled, labels)) == []
	retemplated := json.patch(deployment(bad), [{"op": "add", "path": "/spec/template/metadata/labels/tier", "value": "web"}])
	{v.rule | some v in pod_security(update_review(deployment(bad), retemplated, labels))} == {"pod-security:hostPathVolumes"}
}

# kubectl debug: an UPDATE of pods/ephemeralcontainers carrying the whole Pod.
test_ephemeral_containers_subresource if {
	running := baseline_pod
	debug := {"name": "debug", "image": image, "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}}, "targetContainerName": "app"}
	debugged := json.patch(running, [{"op": "add", "path": "/spec/ephemeralContainers", "value": [debug]}])
	inp := object.union(update_review(running, debugged, enforcing("baseline")), {"request": {"subResource": "ephemeralcontainers"}})
	{[v.rule, v.details.field] | some v in pod_security(inp)} == {["pod-security:capabilities_baseline", "spec.ephemeralContainers[0].securityContext.capabilities.add[0]"]}
}

test_deletes_and_connects_are_not_judged if {
	inp := {"request": object.union(request("DELETE", null, baseline_pod), {"object": null}), "context": {"namespace": {"name": "team", "labels": {}}}}
	pod_security(inp) == []
}

# One violation per check and mode, listing at most ten findings.
test_one_violation_per_check_with_ten_findings_listed if {
	many := pod_of({
		"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
		"containers": [object.union(container(concat("", ["c", format_int(i, 10)])), {"securityContext": {"capabilities": {"drop": ["ALL"]}}}) | some i in numbers.range(0, 11)],
	})
	[v] := pod_security(review(many, enforcing("restricted")))
	v.rule == "pod-security:allowPrivilegeEscalation"
	v.details.count == 12
	count(v.details.fields) == 10
	v.details.field == "spec.containers[0].securityContext.allowPrivilegeEscalation"
	parts := split(v.msg, "; ")
	count(parts) == 11
	parts[10] == "and 2 more"
	parts[0] == "container \"c0\" must set spec.containers[0].securityContext.allowPrivilegeEscalation to false"
}

# What is not an object where one belongs is refused, not read as absent.
test_malformed_objects_refused if {
	refused(with_sc(restricted_pod, "containers", 0, {"capabilities": ["ALL"]}), "restricted") == {"capabilities_restricted"}
	"container \"app\" sets spec.containers[0].securityContext.capabilities to [\"ALL\"]: it must be an object" in messages_of(with_sc(baseline_pod, "containers", 0, {"capabilities": ["ALL"]}), "baseline")
	probe_action := with_handler(baseline_pod, "containers", [{"op": "add", "path": "readinessProbe", "value": {"httpGet": "http://10.0.0.1/"}}])
	messages_of(probe_action, "baseline") == {"container \"app\" sets spec.containers[0].readinessProbe.httpGet to \"http://10.0.0.1/\": it must be an object"}
	odd_metadata := json.patch(baseline_pod, [{"op": "replace", "path": "/metadata", "value": "app-1"}])
	refused(odd_metadata, "baseline") == set()
	odd_labels := object.union(review(with_sc(restricted_pod, null, 0, {"runAsUser": 0}), {}), {"context": {"namespace": {"labels": "restricted"}}})
	{v.enforcement | some v in pod_security(odd_labels)} == {"warn"}
}

test_init_container_image_update_judged if {
	bad := with_volumes(baseline_pod, [{"name": "root", "hostPath": {"path": "/"}}])
	image := json.patch(bad, [{"op": "replace", "path": "/spec/initContainers/0/image", "value": "registry.example.com/team/app:1.0.1"}])
	{v.rule | some v in pod_security(update_review(bad, image, enforcing("baseline")))} == {"pod-security:hostPathVolumes"}
	odd := json.patch(bad, [{"op": "replace", "path": "/spec/containers/0", "value": "app"}])
	{v.rule | some v in pod_security(update_review(bad, odd, enforcing("baseline")))} == {"pod-security:hostPathVolumes"}
}
