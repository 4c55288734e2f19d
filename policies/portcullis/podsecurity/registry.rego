# Every check of the Pod Security Standards as k8s.io/pod-security-admission v0.37.2 registers them
# (policy/check_*.go, policy/registry.go): the check's level, the reason the plugin gives for it, and its
# variants, each in force from a minor version until the next one. A restricted variant may override
# baseline checks: at restricted they are replaced by it. A change of the Standard adds a variant, never
# edits one. Variants are named <snake_id>_v1_<minor> and listed again in findings_of below, because Rego
# cannot call a rule by a name held in data.
package portcullis.podsecurity

import rego.v1

checks := {
	"hostNamespaces": {"level": "baseline", "reason": "host namespaces", "versions": [
		{"since": 0, "variant": "host_namespaces_v1_0"},
	]},
	"privileged": {"level": "baseline", "reason": "privileged", "versions": [
		{"since": 0, "variant": "privileged_v1_0"},
	]},
	"capabilities_baseline": {"level": "baseline", "reason": "non-default capabilities", "versions": [
		{"since": 0, "variant": "capabilities_baseline_v1_0"},
	]},
	"hostPathVolumes": {"level": "baseline", "reason": "hostPath volumes", "versions": [
		{"since": 0, "variant": "host_path_volumes_v1_0"},
	]},
	"hostPorts": {"level": "baseline", "reason": "hostPort", "versions": [
		{"since": 0, "variant": "host_ports_v1_0"},
	]},
	"hostProbesAndHostLifecycle": {"level": "baseline", "reason": "probe or lifecycle host", "versions": [
		{"since": 34, "variant": "host_probes_and_host_lifecycle_v1_34"},
	]},
	"appArmorProfile": {"level": "baseline", "reason": "forbidden AppArmor profile", "versions": [
		{"since": 0, "variant": "app_armor_profile_v1_0"},
	]},
	"seLinuxOptions": {"level": "baseline", "reason": "seLinuxOptions", "versions": [
		{"since": 0, "variant": "se_linux_options_v1_0"},
		{"since": 31, "variant": "se_linux_options_v1_31"},
	]},
	"procMount": {"level": "baseline", "reason": "procMount", "versions": [
		{"since": 0, "variant": "proc_mount_v1_0"},
		{"since": 35, "variant": "proc_mount_v1_35"},
	]},
	"seccompProfile_baseline": {"level": "baseline", "reason": "seccompProfile", "versions": [
		{"since": 0, "variant": "seccomp_profile_baseline_v1_0"},
		{"since": 19, "variant": "seccomp_profile_baseline_v1_19"},
	]},
	"sysctls": {"level": "baseline", "reason": "forbidden sysctls", "versions": [
		{"since": 0, "variant": "sysctls_v1_0"},
		{"since": 27, "variant": "sysctls_v1_27"},
		{"since": 29, "variant": "sysctls_v1_29"},
		{"since": 32, "variant": "sysctls_v1_32"},
		{"since": 37, "variant": "sysctls_v1_37"},
	]},
	"windowsHostProcess": {"level": "baseline", "reason": "hostProcess", "versions": [
		{"since": 0, "variant": "windows_host_process_v1_0"},
	]},
	"restrictedVolumes": {"level": "restricted", "reason": "restricted volume types", "versions": [
		{"since": 0, "variant": "restricted_volumes_v1_0", "overrides": ["hostPathVolumes"]},
	]},
	"allowPrivilegeEscalation": {"level": "restricted", "reason": "allowPrivilegeEscalation != false", "versions": [
		{"since": 8, "variant": "allow_privilege_escalation_v1_8"},
		{"since": 25, "variant": "allow_privilege_escalation_v1_25"},
	]},
	"runAsNonRoot": {"level": "restricted", "reason": "runAsNonRoot != true", "versions": [
		{"since": 0, "variant": "run_as_non_root_v1_0"},
		{"since": 35, "variant": "run_as_non_root_v1_35"},
	]},
	"runAsUser": {"level": "restricted", "reason": "runAsUser=0", "versions": [
		{"since": 23, "variant": "run_as_user_v1_23"},
		{"since": 35, "variant": "run_as_user_v1_35"},
	]},
	"seccompProfile_restricted": {"level": "restricted", "reason": "seccompProfile", "versions": [
		{"since": 19, "variant": "seccomp_profile_restricted_v1_19", "overrides": ["seccompProfile_baseline"]},
		{"since": 25, "variant": "seccomp_profile_restricted_v1_25", "overrides": ["seccompProfile_baseline"]},
	]},
	"capabilities_restricted": {"level": "restricted", "reason": "unrestricted capabilities", "versions": [
		{"since": 22, "variant": "capabilities_restricted_v1_22", "overrides": ["capabilities_baseline"]},
		{"since": 25, "variant": "capabilities_restricted_v1_25", "overrides": ["capabilities_baseline"]},
	]},
	"procMount_restricted": {"level": "restricted", "reason": "procMount", "versions": [
		{"since": 35, "variant": "proc_mount_v1_0", "overrides": ["procMount"]},
	]},
}

# The newest version any check knows: "latest", and any newer version, mean this one (registry_test checks it
# against the registry).
latest_minor := 37

# [id, variant] of every check in force at a level rank and minor version: the checks of that level and
# those below it, each in the variant of the newest version not after minor, less the baseline checks that
# a restricted variant in force overrides (the plugin's OverrideCheckIDs).
checks_in_force(rank, minor) := {[id, entry.variant] |
	some id, check in checks
	level_rank[check.level] <= rank
	entry := entry_at(check, minor)
	not id in overridden(rank, minor)
}

entry_at(check, minor) := entries[count(entries) - 1] if {
	entries := [e | some e in check.versions; e.since <= minor]
	count(entries) > 0
}

overridden(rank, minor) := {id |
	rank == 2
	some check in checks
	check.level == "restricted"
	some id in object.get(entry_at(check, minor), "overrides", [])
}

# What table/data.json holds: checks_in_force at every version where something changes. Regenerate it with
# `node scripts/podsecurity-table.mjs` after a change to the registry; registry_test fails while it is stale.
table_of_registry := {
	"breakpoints": breakpoints,
	"inForce": {level: {format_int(b, 10): {id: variant | some [id, variant] in checks_in_force(rank, b)} | some b in breakpoints} | some level, rank in level_rank; rank > 0},
	"reasons": {id: check.reason | some id, check in checks},
}

breakpoints := sort({v.since | some check in checks; some v in check.versions})

# One chain, not a clause per variant: OPA's WebAssembly tries every clause of a function at every call,
# and this one is called for each check in force in each mode.
findings_of(variant) := host_namespaces_v1_0 if {
	variant == "host_namespaces_v1_0"
} else := privileged_v1_0 if {
	variant == "privileged_v1_0"
} else := capabilities_baseline_v1_0 if {
	variant == "capabilities_baseline_v1_0"
} else := host_path_volumes_v1_0 if {
	variant == "host_path_volumes_v1_0"
} else := host_ports_v1_0 if {
	variant == "host_ports_v1_0"
} else := host_probes_and_host_lifecycle_v1_34 if {
	variant == "host_probes_and_host_lifecycle_v1_34"
} else := app_armor_profile_v1_0 if {
	variant == "app_armor_profile_v1_0"
} else := se_linux_options_v1_0 if {
	variant == "se_linux_options_v1_0"
} else := se_linux_options_v1_31 if {
	variant == "se_linux_options_v1_31"
} else := proc_mount_v1_0 if {
	variant == "proc_mount_v1_0"
} else := proc_mount_v1_35 if {
	variant == "proc_mount_v1_35"
} else := seccomp_profile_baseline_v1_0 if {
	variant == "seccomp_profile_baseline_v1_0"
} else := seccomp_profile_baseline_v1_19 if {
	variant == "seccomp_profile_baseline_v1_19"
} else := sysctls_v1_0 if {
	variant == "sysctls_v1_0"
} else := sysctls_v1_27 if {
	variant == "sysctls_v1_27"
} else := sysctls_v1_29 if {
	variant == "sysctls_v1_29"
} else := sysctls_v1_32 if {
	variant == "sysctls_v1_32"
} else := sysctls_v1_37 if {
	variant == "sysctls_v1_37"
} else := windows_host_process_v1_0 if {
	variant == "windows_host_process_v1_0"
} else := restricted_volumes_v1_0 if {
	variant == "restricted_volumes_v1_0"
} else := allow_privilege_escalation_v1_8 if {
	variant == "allow_privilege_escalation_v1_8"
} else := allow_privilege_escalation_v1_25 if {
	variant == "allow_privilege_escalation_v1_25"
} else := run_as_non_root_v1_0 if {
	variant == "run_as_non_root_v1_0"
} else := run_as_non_root_v1_35 if {
	variant == "run_as_non_root_v1_35"
} else := run_as_user_v1_23 if {
	variant == "run_as_user_v1_23"
} else := run_as_user_v1_35 if {
	variant == "run_as_user_v1_35"
} else := seccomp_profile_restricted_v1_19 if {
	variant == "seccomp_profile_restricted_v1_19"
} else := seccomp_profile_restricted_v1_25 if {
	variant == "seccomp_profile_restricted_v1_25"
} else := capabilities_restricted_v1_22 if {
	variant == "capabilities_restricted_v1_22"
} else := capabilities_restricted_v1_25 if {
	variant == "capabilities_restricted_v1_25"
}
