package portcullis.podsecurity_test

import rego.v1

se_linux_rows(target) := [[concat(" ", [name, json.marshal(target)]), pod, levels[l], want] |
	some [name, options, want] in [
		["container_t", {"type": "container_t", "level": "s0:c1,c2"}, set()],
		["container_init_t", {"type": "container_init_t"}, set()],
		["container_kvm_t", {"type": "container_kvm_t"}, set()],
		["container_engine_t", {"type": "container_engine_t"}, set()],
		["empty type", {"type": ""}, set()],
		["only a level", {"level": "s0"}, set()],
		["spc_t", {"type": "spc_t"}, {"seLinuxOptions"}],
		["a user", {"user": "system_u"}, {"seLinuxOptions"}],
		["a role", {"role": "system_r"}, {"seLinuxOptions"}],
		["empty user and role", {"user": "", "role": ""}, set()],
		["a type of the wrong type", {"type": 1}, {"seLinuxOptions"}],
		["not an object", "spc_t", {"seLinuxOptions"}],
	]
	some l, pod in both_sc(target[0], target[1], {"seLinuxOptions": options})
]

test_se_linux_options if {
	failing_rows(se_linux_rows([null, 0])) == []
	failing_rows(se_linux_rows(["initContainers", 0])) == []
	failing_rows(se_linux_rows(["containers", 0])) == []
}

test_se_linux_options_container_engine_t_from_1_31 if {
	pod := with_sc(baseline_pod, "containers", 0, {"seLinuxOptions": {"type": "container_engine_t"}})
	refused_at(pod, "baseline", "v1.30") == {"seLinuxOptions"}
	refused_at(pod, "baseline", "v1.31") == set()
}

test_se_linux_options_one_finding_per_field if {
	pod := with_sc(baseline_pod, null, 0, {"seLinuxOptions": {"type": "spc_t", "user": "u", "role": "r"}})
	fields_by(pod, enforcing("baseline")) == {"seLinuxOptions": {
		"spec.securityContext.seLinuxOptions.type", "spec.securityContext.seLinuxOptions.user", "spec.securityContext.seLinuxOptions.role",
	}}
	"Pod sets spec.securityContext.seLinuxOptions.type to \"spc_t\": remove it or use a container type (container_t, container_init_t, container_kvm_t, container_engine_t from 1.31)" in messages_of(pod, "baseline")
}
