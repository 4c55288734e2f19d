# The registry checked the way the plugin's policy/registry.go validates its checks, and every check shown
# to refuse something.
package portcullis.podsecurity_test

import rego.v1

import data.portcullis.podsecurity

test_registry_holds_the_nineteen_checks if {
	{id | some id, c in podsecurity.checks; c.level == "baseline"} == {
		"hostNamespaces", "privileged", "capabilities_baseline", "hostPathVolumes", "hostPorts",
		"hostProbesAndHostLifecycle", "appArmorProfile", "seLinuxOptions", "procMount", "seccompProfile_baseline",
		"sysctls", "windowsHostProcess",
	}
	{id | some id, c in podsecurity.checks; c.level == "restricted"} == {
		"restrictedVolumes", "allowPrivilegeEscalation", "runAsNonRoot", "runAsUser", "seccompProfile_restricted",
		"capabilities_restricted", "procMount_restricted",
	}
}

test_registry_versions_increase_and_overrides_name_baseline_checks if {
	every check in podsecurity.checks {
		check.level in {"baseline", "restricted"}
		is_string(check.reason)
		count(check.versions) > 0
		every i, entry in check.versions {
			is_number(entry.since)
			after_previous(check.versions, i)
			every overridden in object.get(entry, "overrides", []) {
				check.level == "restricted"
				podsecurity.checks[overridden].level == "baseline"
			}
		}
	}
}

after_previous(_, 0)

after_previous(versions, i) if versions[i].since > versions[i - 1].since

# Every variant the registry names is one findings_of knows, and the registry names each once per check.
test_registry_variants_exist if {
	every check in podsecurity.checks {
		every entry in check.versions {
			is_array(podsecurity.findings_of(entry.variant)) with input as review(baseline_pod, {})
		}
	}
}

in_force_ids(rank, minor) := {id | some id, _ in podsecurity.in_force({"rank": rank, "minor": minor})}

test_checks_in_force_by_level_and_version if {
	count(in_force_ids(1, 37)) == 12
	in_force_ids(1, 33) == in_force_ids(1, 37) - {"hostProbesAndHostLifecycle"}
	in_force_ids(2, 37) == (in_force_ids(1, 37) - {"hostPathVolumes", "seccompProfile_baseline", "capabilities_baseline", "procMount"}) | {
		"restrictedVolumes", "allowPrivilegeEscalation", "runAsNonRoot", "runAsUser", "seccompProfile_restricted",
		"capabilities_restricted", "procMount_restricted",
	}
	in_force_ids(2, 0) == (in_force_ids(1, 0) - {"hostPathVolumes"}) | {"restrictedVolumes", "runAsNonRoot"}
	in_force_ids(2, 18) == in_force_ids(2, 0) | {"allowPrivilegeEscalation"}
	in_force_ids(2, 34) == in_force_ids(2, 37) - {"procMount_restricted"} | {"procMount"}
	in_force_ids(0, 37) == set()
	podsecurity.in_force({"rank": 1, "minor": 30}).sysctls == "sysctls_v1_29"
}

# A Pod each check refuses, at the check's level and newest version.
refusing := {
	"hostNamespaces": tweak(baseline_pod, [{"op": "add", "path": "/spec/hostIPC", "value": true}]),
	"privileged": with_sc(baseline_pod, "containers", 0, {"privileged": true}),
	"capabilities_baseline": with_sc(baseline_pod, "containers", 0, {"capabilities": {"add": ["SYS_ADMIN"]}}),
	"hostPathVolumes": with_volumes(baseline_pod, [{"name": "h", "hostPath": {"path": "/"}}]),
	"hostPorts": with_ports(baseline_pod, "containers", [{"containerPort": 80, "hostPort": 80}]),
	"hostProbesAndHostLifecycle": with_handler(baseline_pod, "containers", probe("livenessProbe", "tcpSocket", "10.0.0.1")),
	"appArmorProfile": annotated(baseline_pod, {app_armor("app"): "unconfined"}),
	"seLinuxOptions": with_sc(baseline_pod, null, 0, {"seLinuxOptions": {"type": "spc_t"}}),
	"procMount": with_sc(baseline_pod, "containers", 0, {"procMount": "Unmasked"}),
	"seccompProfile_baseline": with_sc(baseline_pod, null, 0, {"seccompProfile": {"type": "Unconfined"}}),
	"sysctls": with_sysctls(baseline_pod, [sysctl("kernel.msgmax")]),
	"windowsHostProcess": with_sc(baseline_pod, "containers", 0, {"windowsOptions": {"hostProcess": true}}),
	"restrictedVolumes": with_volumes(restricted_pod, [{"name": "n", "nfs": {"server": "s", "path": "/"}}]),
	"allowPrivilegeEscalation": with_sc(restricted_pod, "containers", 0, {"allowPrivilegeEscalation": true}),
	"runAsNonRoot": with_sc(restricted_pod, null, 0, {"runAsNonRoot": false}),
	"runAsUser": with_sc(restricted_pod, null, 0, {"runAsUser": 0}),
	"seccompProfile_restricted": no_pod_seccomp,
	"capabilities_restricted": with_sc(restricted_pod, "containers", 0, {"capabilities": {"drop": ["ALL"], "add": ["CHOWN"]}}),
	"procMount_restricted": with_sc(json.patch(restricted_pod, [{"op": "add", "path": "/spec/hostUsers", "value": false}]), "containers", 0, {"procMount": "Unmasked"}),
}

test_every_check_refuses_its_pod if {
	object.keys(refusing) == object.keys(podsecurity.checks)
	[id |
		some id, pod in refusing
		refused(pod, podsecurity.checks[id].level) != {id}
	] == []
}

# The table the policy reads is the registry's, at every version.
test_table_is_current if {
	data.portcullis.podsecurity.table == podsecurity.table_of_registry
	podsecurity.latest_minor == max([v.since | some check in podsecurity.checks; some v in check.versions])
	[[rank, minor] |
		some rank in [1, 2]
		some minor in numbers.range(0, podsecurity.latest_minor)
		{[id, v] | some id, v in podsecurity.in_force({"rank": rank, "minor": minor})} != podsecurity.checks_in_force(rank, minor)
	] == []
}
