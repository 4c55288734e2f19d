# The Pod Security Standards as admission rules, one per check of k8s.io/pod-security-admission
# (registry.rego), named pod-security:<check id>. For a Pod or pod template the namespace's level and version
# per mode (levels.rego) select the checks in force, each in the variant of that version; a finding is
# reported once, in the strongest mode that finds it (enforce -> deny, warn -> warn, audit -> dryrun).
package portcullis.podsecurity

import rego.v1

import data.portcullis.admission

# Judged: new Pods and pod templates; an update of a Pod that changes what runs (the plugin's
# isSignificantPodUpdate: an image, an added ephemeral container) or its AppArmor or seccomp annotations;
# an update of a workload that changes its pod template.
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

old_annotations := a if {
	a := admission.old_object.metadata.annotations
	is_object(a)
} else := {}

significant_pod_update if images(spec, "containers") != images(old_spec, "containers")

significant_pod_update if images(spec, "initContainers") != images(old_spec, "initContainers")

significant_pod_update if count(ephemeral_images(spec) - ephemeral_images(old_spec)) > 0

significant_pod_update if security_annotations(annotations) != security_annotations(old_annotations)

images(s, list) := [image_of(c) | some c in object.get(s, list, [])]

image_of(c) := object.get(c, "image", null) if is_object(c)

image_of(c) := c if not is_object(c)

ephemeral_images(s) := {[object.get(c, "name", null), image_of(c)] | some c in object.get(s, "ephemeralContainers", []); is_object(c)}

security_annotations(a) := {k: v |
	some k, v in a
	some p in [app_armor_annotation_prefix, seccomp_container_annotation_prefix, seccomp_pod_annotation]
	startswith(k, p)
}

level_of := {"baseline": 1, "restricted": 2}

# [id, variant] of every check in force at a level and version ({rank, minor}): the checks of that level
# and those below it, each in the variant of the newest version not after minor, less the baseline checks
# that a restricted variant in force overrides (the plugin's OverrideCheckIDs).
in_force(lv) := set() if lv.rank == 0

in_force(lv) := {[id, entry.variant] |
	some id, check in checks
	level_of[check.level] <= lv.rank
	entry := entry_at(check, lv.minor)
	not id in dropped
} if {
	lv.rank > 0
	dropped := overridden(lv)
}

entry_at(check, minor) := entries[count(entries) - 1] if {
	entries := [e | some e in check.versions; e.since <= minor]
	count(entries) > 0
}

overridden(lv) := {id |
	lv.rank == 2
	some check in checks
	check.level == "restricted"
	some id in object.get(entry_at(check, lv.minor), "overrides", [])
}

enforce_checks := in_force(policy.enforce)

warn_checks := in_force(policy.warn)

audit_checks := in_force(policy.audit)

# Each [id, variant] under the strongest mode it is in force in.
by_mode := {
	"enforce": enforce_checks,
	"warn": warn_checks - enforce_checks,
	"audit": (audit_checks - warn_checks) - enforce_checks,
}

stronger_modes := {"enforce": [], "warn": ["enforce"], "audit": ["enforce", "warn"]}

enforcements := {"enforce": "deny", "warn": "warn", "audit": "dryrun"}

violations := {v |
	applies
	some mode, pairs in by_mode
	some [id, variant] in pairs
	some f in findings_of(variant)
	not found_in_stronger_mode(mode, id, f)
	not floor_reported(f)
	v := {
		"rule": concat(":", ["pod-security", id]),
		"msg": f.msg,
		"enforcement": enforcements[mode],
		"details": object.union(object.remove(f, ["msg", "floor"]), {"reason": checks[id].reason, "level": policy[mode].name}),
	}
}

# Another variant of the same check, or of the check it overrides or is overridden by, finds the same thing
# in a stronger mode (procMount_restricted at warn repeating procMount at enforce).
found_in_stronger_mode(mode, id, f) if {
	some stronger in stronger_modes[mode]
	some [other_id, other] in by_mode[stronger]
	related(id, other_id)
	f in findings_of(other)
}

related(id, id)

related(id, other_id) if [id, other_id] in overriding

related(id, other_id) if [other_id, id] in overriding

# [restricted check, baseline check it overrides]
overriding := {[id, overridden_id] |
	some id, check in checks
	some entry in check.versions
	some overridden_id in object.get(entry, "overrides", [])
}
