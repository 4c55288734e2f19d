package portcullis.podsecurity_test

import rego.v1

import data.portcullis.admission

test_privileged if {
	failing_rows(container_rows("privileged", [
		["true", true, {"privileged"}],
		["false", false, set()],
		["null", null, set()],
		["a string", "true", {"privileged"}],
		["a number", 1, {"privileged"}],
	])) == []
}

test_privileged_ephemeral_container_and_native_sidecar if {
	debug := {"name": "debug", "image": image, "securityContext": {"privileged": true}}
	refused(tweak(baseline_pod, [{"op": "add", "path": "/spec/ephemeralContainers", "value": [debug]}]), "baseline") == {"privileged"}
	sidecar := object.union(debug, {"restartPolicy": "Always"})
	fields_by(tweak(baseline_pod, [{"op": "add", "path": "/spec/initContainers/-", "value": sidecar}]), enforcing("baseline")) == {"privileged": {"spec.initContainers[1].securityContext.privileged"}}
}

test_privileged_securitycontext_of_wrong_type_refused if {
	every value in ["privileged", [], true, 0] {
		pod := tweak(baseline_pod, [{"op": "add", "path": "/spec/containers/0/securityContext", "value": value}])
		"privileged" in refused(pod, "baseline")
		"spec.containers[0].securityContext" in fields_by(pod, enforcing("baseline")).privileged
	}
}

test_privileged_message if {
	pod := tweak(baseline_pod, [{"op": "add", "path": "/spec/containers/0/securityContext", "value": {"privileged": "yes"}}])
	[v] := pod_security(review(pod, enforcing("baseline")))
	v.msg == "container \"app\" sets spec.containers[0].securityContext.privileged to \"yes\": remove it or set it to false"
	v.details == {"field": "spec.containers[0].securityContext.privileged", "fields": ["spec.containers[0].securityContext.privileged"], "count": 1, "reason": "privileged", "level": "baseline:latest"}
}

test_privileged_left_to_the_floor_rule if {
	pod := tweak(baseline_pod, [{"op": "add", "path": "/spec/containers/0/securityContext", "value": {"privileged": true}}])
	{v.rule | some v in admission.violations with input as review(pod, enforcing("baseline"))} == {"no-privileged"}
	{v.rule | some v in admission.violations with input as review(pod, enforcing("baseline")) with data.portcullis.config.exemptions.rules as {"no-privileged": {"namespaces": ["team"]}}} == {"pod-security:privileged"}
}
