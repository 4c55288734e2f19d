package portcullis.podsecurity_test

import rego.v1

import data.portcullis.admission

adding(caps) := [{"op": "add", "path": "/spec/containers/0/securityContext", "value": {"capabilities": {"add": caps, "drop": ["ALL"]}}}]

test_capabilities_baseline if {
	failing_rows([
		["the default set", tweak(baseline_pod, adding(["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"])), "baseline", set()],
		["empty", tweak(baseline_pod, adding([])), "baseline", set()],
		["null", tweak(baseline_pod, adding(null)), "baseline", set()],
		["NET_RAW", tweak(baseline_pod, adding(["NET_RAW"])), "baseline", {"capabilities_baseline"}],
		["SYS_ADMIN", tweak(baseline_pod, adding(["SYS_ADMIN"])), "baseline", {"capabilities_baseline"}],
		["ALL", tweak(baseline_pod, adding(["ALL"])), "baseline", {"capabilities_baseline"}],
		["another spelling", tweak(baseline_pod, adding(["CAP_CHOWN"])), "baseline", {"capabilities_baseline"}],
		["lower case", tweak(baseline_pod, adding(["chown"])), "baseline", {"capabilities_baseline"}],
		["not a list", tweak(baseline_pod, adding("CHOWN")), "baseline", {"capabilities_baseline"}],
		["not a string", tweak(baseline_pod, adding([1])), "baseline", {"capabilities_baseline"}],
		["init container", tweak(baseline_pod, [{"op": "add", "path": "/spec/initContainers/0/securityContext", "value": {"capabilities": {"add": ["SYS_PTRACE"]}}}]), "baseline", {"capabilities_baseline"}],
		["privileged level", tweak(baseline_pod, adding(["SYS_ADMIN"])), "privileged", set()],
	]) == []
}

test_capabilities_baseline_one_finding_per_capability if {
	pod := tweak(baseline_pod, adding(["CHOWN", "SYS_ADMIN", "NET_RAW"]))
	fields_by(pod, enforcing("baseline")) == {"capabilities_baseline": {
		"spec.containers[0].securityContext.capabilities.add[1]",
		"spec.containers[0].securityContext.capabilities.add[2]",
	}}
	"container \"app\" adds capability \"NET_RAW\" in spec.containers[0].securityContext.capabilities.add[2]: remove it (only the default set may be added: AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT)" in messages_of(pod, "baseline")
}

# capabilities-allowlist denies what its own allowlist does not hold; the Standard still refuses what an
# operator allowlisted there but the default set lacks.
test_capabilities_beside_the_floor_rule if {
	pod := tweak(baseline_pod, adding(["SYS_PTRACE", "CHOWN"]))
	rules := [[v.rule, v.details.field] | some v in admission.violations with input as review(pod, enforcing("baseline"))]
	rules == [
		["capabilities-allowlist", "spec.containers[0].securityContext.capabilities.add"],
		["capabilities-allowlist", "spec.containers[0].securityContext.capabilities.add"],
	]
	allowlisted := [[v.rule, v.details.field] | some v in admission.violations with input as review(pod, enforcing("baseline")) with data.portcullis.config.allowlists.capabilities as ["SYS_PTRACE", "CHOWN"]]
	allowlisted == [["pod-security:capabilities_baseline", "spec.containers[0].securityContext.capabilities.add[0]"]]
}
