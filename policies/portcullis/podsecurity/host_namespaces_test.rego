package portcullis.podsecurity_test

import rego.v1

import data.portcullis.admission

test_host_namespaces if {
	failing_rows([row |
		some [name, field, value, want] in [
			["hostNetwork", "hostNetwork", true, {"hostNamespaces"}],
			["hostPID", "hostPID", true, {"hostNamespaces"}],
			["hostIPC", "hostIPC", true, {"hostNamespaces"}],
			["false", "hostNetwork", false, set()],
			["null", "hostPID", null, set()],
			["a string", "hostIPC", "true", {"hostNamespaces"}],
			["a number", "hostNetwork", 1, {"hostNamespaces"}],
		]
		some i, pod in both([{"op": "add", "path": concat("/", ["", "spec", field]), "value": value}])
		row := [name, pod, ["baseline", "restricted"][i], want]
	]) == []
	refused(tweak(baseline_pod, [{"op": "add", "path": "/spec/hostPID", "value": true}]), "privileged") == set()
}

test_host_namespaces_message if {
	pod := tweak(baseline_pod, [{"op": "add", "path": "/spec/hostNetwork", "value": true}])
	messages_of(pod, "baseline") == {"Pod sets spec.hostNetwork to true: remove it or set it to false (the Pod would share the node's network namespace)"}
	[v] := pod_security(review(deployment(pod), enforcing("baseline")))
	v.msg == "Deployment sets spec.template.spec.hostNetwork to true: remove it or set it to false (the Pod would share the node's network namespace)"
	v.details == {"field": "spec.template.spec.hostNetwork", "fields": ["spec.template.spec.hostNetwork"], "count": 1, "reason": "host namespaces", "level": "baseline:latest"}
}

# no-host-namespaces denies hostNetwork: true at every level, so the Standard does not say it again; a
# value the floor rule does not read (a string) is the Standard's alone.
test_host_namespaces_left_to_the_floor_rule if {
	pod := tweak(baseline_pod, [{"op": "add", "path": "/spec/hostNetwork", "value": true}])
	rules := {v.rule | some v in admission.violations with input as review(pod, enforcing("baseline"))}
	"no-host-namespaces" in rules
	not "pod-security:hostNamespaces" in rules
	odd := tweak(baseline_pod, [{"op": "add", "path": "/spec/hostNetwork", "value": "true"}])
	"pod-security:hostNamespaces" in {v.rule | some v in admission.violations with input as review(odd, enforcing("baseline"))}
	"pod-security:hostNamespaces" in {v.rule | some v in admission.violations with input as review(pod, enforcing("baseline")) with data.portcullis.config.enforcement as {"no-host-namespaces": "warn"}}
}
