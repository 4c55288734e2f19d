# Builders for the Pod Security tests: minimal Pods that pass each level (as the plugin's test/fixtures.go
# builds them), reviews in a namespace with pod-security.kubernetes.io labels, and what comes out.
package portcullis.podsecurity_test

import rego.v1

import data.portcullis.admission
import data.portcullis.podsecurity

image := "registry.example.com/team/app:1.0.0"

container(name) := {"name": name, "image": image}

restricted_container(name) := object.union(container(name), {"securityContext": {
	"allowPrivilegeEscalation": false,
	"capabilities": {"drop": ["ALL"]},
}})

pod_of(spec) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "app-1", "namespace": "team", "labels": {"app": "app", "version": "v1"}},
	"spec": object.union({"serviceAccountName": "app"}, spec),
}

baseline_pod := pod_of({"initContainers": [container("init")], "containers": [container("app")]})

restricted_pod := pod_of({
	"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
	"initContainers": [restricted_container("init")],
	"containers": [restricted_container("app")],
})

# The Pod with ops (JSON patch) applied.
tweak(pod, ops) := json.patch(pod, ops)

# Both of a level's minimal Pods, tweaked the same way: a tweak that breaks a baseline check breaks it at
# restricted too.
both(ops) := [tweak(baseline_pod, ops), tweak(restricted_pod, ops)]

deployment(pod) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "app", "namespace": "team"},
	"spec": {
		"selector": {"matchLabels": {"app": "app"}},
		"template": {"metadata": object.remove(pod.metadata, ["name", "namespace"]), "spec": pod.spec},
	},
}

cronjob(pod) := {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": {"name": "app", "namespace": "team"},
	"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"metadata": object.remove(pod.metadata, ["name", "namespace"]), "spec": pod.spec}}}},
}

kinds := {"Pod": ["", "v1"], "Deployment": ["apps", "v1"], "CronJob": ["batch", "v1"], "DaemonSet": ["apps", "v1"], "StatefulSet": ["apps", "v1"], "ReplicaSet": ["apps", "v1"], "Job": ["batch", "v1"], "ReplicationController": ["", "v1"]}

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

review(obj, labels) := {
	"request": request("CREATE", obj, null),
	"context": {"namespace": {"name": "team", "labels": labels, "annotations": {}}, "cluster": {"name": "test", "trustDomain": "cluster.local"}},
}

update_review(old, obj, labels) := {
	"request": request("UPDATE", obj, old),
	"context": {"namespace": {"name": "team", "labels": labels, "annotations": {}}, "cluster": {"name": "test", "trustDomain": "cluster.local"}},
}

psa(mode) := concat("", ["pod-security.kubernetes.io/", mode])

# Labels that enforce one level (and version) and switch warn and audit off.
enforcing(level) := {psa("enforce"): level, psa("warn"): "privileged", psa("audit"): "privileged"}

enforcing_version(level, version) := object.union(enforcing(level), {psa("enforce-version"): version})

# The mesh's floor rules deny some of the same fields at every level; out of the way here, so each check
# is seen on its own.
floor_rules := ["no-privileged", "no-host-namespaces", "capabilities-allowlist"]

no_floor := {"rules": {rule: {"namespaces": ["*"]} | some rule in floor_rules}}

# The Pod Security rules' violations alone (the other rules are not evaluated: the tables run many rows).
pod_security(inp) := [v |
	some v in podsecurity.violations with input as inp with data.portcullis.config.exemptions as no_floor
]

# As the webhook answers them: exemptions and enforcement overrides applied.
pod_security_answer(inp) := [v |
	some v in admission.violations with input as inp with data.portcullis.config.exemptions as no_floor
	startswith(v.rule, "pod-security:")
]

check_id(v) := substring(v.rule, count("pod-security:"), -1)

# The ids of the checks that refuse obj in a namespace with labels.
refused_by(obj, labels) := {check_id(v) | some v in pod_security(review(obj, labels)); v.enforcement == "deny"}

refused(obj, level) := refused_by(obj, enforcing(level))

refused_at(obj, level, version) := refused_by(obj, enforcing_version(level, version))

# Where each check is reported for obj under labels: {check: {field, ...}}.
fields_by(obj, labels) := {check_id(v): {field | some w in pod_security(review(obj, labels)); w.rule == v.rule; some field in w.details.fields} |
	some v in pod_security(review(obj, labels))
}

# The messages of the findings: one violation per check lists its findings' messages joined by "; ".
messages_of(obj, level) := {msg | some v in pod_security(review(obj, enforcing(level))); some msg in split(v.msg, "; ")}

# The rows [name, object, level, refused check ids] that do not hold, with what was refused instead.
failing_rows(rows) := [[name, refused(obj, level)] |
	some [name, obj, level, want] in rows
	refused(obj, level) != want
]

# The Pod with fields set in the securityContext of spec[list][i] (the Pod's own with list null), each
# replacing what was there.
with_sc(pod, null, _, fields) := json.patch(pod, [{"op": "add", "path": "/spec/securityContext", "value": set_fields(object.get(pod.spec, "securityContext", {}), fields)}])

with_sc(pod, list, i, fields) := json.patch(pod, [{
	"op": "add",
	"path": concat("/", ["", "spec", list, format_int(i, 10), "securityContext"]),
	"value": set_fields(object.get(pod.spec[list][i], "securityContext", {}), fields),
}]) if list != null

# Both minimal Pods with the same securityContext fields merged in.
both_sc(list, i, fields) := [with_sc(baseline_pod, list, i, fields), with_sc(restricted_pod, list, i, fields)]

levels := ["baseline", "restricted"]

# Rows for a securityContext field of each container kind (init container, container) at both levels:
# [name, pod, level, want] for each [name, value, want] of cases.
container_rows(key, cases) := [[concat(" ", [name, list]), pod, levels[l], want] |
	some [name, value, want] in cases
	some list in ["initContainers", "containers"]
	some l, pod in both_sc(list, 0, {key: value})
]

set_fields(obj, fields) := object.union(object.remove(obj, {k | some k, _ in fields}), fields)
