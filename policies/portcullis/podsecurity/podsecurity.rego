# The Pod Security Standards as admission rules, one per check of k8s.io/pod-security-admission
# (registry.rego), named pod-security:<check id>. For a Pod or pod template the namespace's level and version
# per mode (levels.rego) select the checks in force, each in the variant of that version; a finding is
# reported once, in the strongest mode that finds it (enforce -> deny, warn -> warn, audit -> dryrun).
package portcullis.podsecurity

import rego.v1

import data.portcullis.admission

# Judged: new Pods and pod templates; an update of a Pod that changes what runs (the plugin's
# isSignificantPodUpdate: an image, an added ephemeral container; the API server refuses new AppArmor
# annotations on a Pod, and seccomp annotations do nothing since 1.27); an update of a workload that changes
# its pod template.
applies if {
	spec
	admission.operation == "CREATE"
}

applies if {
	spec
	admission.operation == "UPDATE"
	admission.group_kind == "/Pod"
	significant_pod_update
}

applies if {
	spec
	admission.operation == "UPDATE"
	admission.group_kind != "/Pod"
	admission.pod_template != object.get(admission.old_object, admission.template_path, null)
}

old_spec := object.get(admission.old_object, "spec", {})

significant_pod_update if images(spec, "containers") != images(old_spec, "containers")

significant_pod_update if images(spec, "initContainers") != images(old_spec, "initContainers")

significant_pod_update if count(ephemeral_images(spec) - ephemeral_images(old_spec)) > 0

images(s, list) := [image_of(c) | some c in object.get(s, list, [])]

image_of(c) := object.get(c, "image", null) if is_object(c)

image_of(c) := c if not is_object(c)

ephemeral_images(s) := {[object.get(c, "name", null), image_of(c)] | some c in object.get(s, "ephemeralContainers", []); is_object(c)}

# {id: variant} of every check in force at a level and version ({rank, minor}), looked up in the table built
# from the registry (registry.rego checks_in_force, table/data.json): computing it for every review would
# cost as much as the checks themselves.
in_force(lv) := {} if lv.rank == 0

in_force(lv) := in_force_table.inForce[level_names[lv.rank]][breakpoint(lv.minor)] if lv.rank > 0

in_force_table := data.portcullis.podsecurity.table

breakpoint(minor) := "37" if minor == latest_minor
else := format_int(max([b | some b in in_force_table.breakpoints; b <= minor]), 10)

enforce_checks := in_force(policy.enforce)

warn_checks := in_force(policy.warn)

audit_checks := in_force(policy.audit)

enforcements := {"enforce": "deny", "warn": "warn", "audit": "dryrun"}

# [mode, {id: variant} in force in it and in no stronger mode], strongest first.
by_mode := [["enforce", enforce_checks], ["warn", warn_only], ["audit", audit_only]]

warn_only := {} if policy.warn == policy.enforce
else := {id: variant | some id, variant in warn_checks; not enforce_checks[id] == variant}

audit_only := {} if policy.audit == policy.warn
else := {} if policy.audit == policy.enforce
else := {id: variant | some id, variant in audit_checks; not warn_checks[id] == variant; not enforce_checks[id] == variant}

# A weaker mode does not report again what a stronger one found through another variant of the same check
# (sysctls of two versions) or through its partner, the check it overrides or is overridden by
# (procMount_restricted at warn repeating procMount at enforce).
partners := {
	"procMount": "procMount_restricted", "procMount_restricted": "procMount",
	"seccompProfile_baseline": "seccompProfile_restricted", "seccompProfile_restricted": "seccompProfile_baseline",
}

stronger_checks := {"enforce": [], "warn": [enforce_checks], "audit": [enforce_checks, warn_only]}

found_stronger(mode, id) := {f |
	some checks_of_mode in stronger_checks[mode]
	some key in [id, object.get(partners, id, id)]
	some f in findings_of(checks_of_mode[key])
}

# One violation per check and mode, as the plugin reports one reason per check: its message lists the
# first listed_findings findings, each naming its field, so a Pod with thousands of containers still gets a
# bounded answer (details.count says how many there were). Findings are lists in the order of the spec
# (containers as written), never sorted: sorting is quadratic in WebAssembly.
violations := {v |
	applies
	some [mode, checks_of_mode] in by_mode
	some id, variant in checks_of_mode
	found := findings_of(variant)
	count(found) > 0
	before := found_stronger(mode, id)
	kept := [[f.field, f.msg] | some f in found; not f in before; not floor_reported(f)]
	count(kept) > 0
	v := violation(mode, id, kept)
}

listed_findings := 10

violation(mode, id, kept) := {
	"rule": concat(":", ["pod-security", id]),
	"msg": concat("; ", array.concat([msg | some [_, msg] in listed], more(count(kept)))),
	"enforcement": enforcements[mode],
	"details": {
		"reason": in_force_table.reasons[id],
		"level": policy[mode].name,
		"field": kept[0][0],
		"fields": [field | some [field, _] in listed],
		"count": count(kept),
	},
} if listed := array.slice(kept, 0, listed_findings)

more(n) := [] if n <= listed_findings

more(n) := [concat("", ["and ", format_int(n - listed_findings, 10), " more"])] if n > listed_findings
