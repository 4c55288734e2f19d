# The level and version each mode applies in the request's namespace, read the way the PodSecurity admission
# plugin reads its namespace labels (pod-security-admission api.PolicyToEvaluate), over Portcullis' own
# defaults instead of the plugin's (see config.rego):
#   - a label with a valid value decides its mode; an invalid enforce level means restricted (fail closed),
#     an invalid warn or audit level means privileged, an invalid version means latest;
#   - an enforce label stricter than the warn default raises warn to it (with its version, unless a
#     warn-version label says otherwise), so what is enforced is also what is warned about;
#   - versions newer than the newest check (latest_minor) are evaluated as the newest.
# Modes map to Portcullis enforcements: enforce -> deny, warn -> warn, audit -> dryrun.
package portcullis.podsecurity

import rego.v1

import data.portcullis.admission

label_prefix := "pod-security.kubernetes.io/"

level_rank := {"privileged": 0, "baseline": 1, "restricted": 2}

level_names := ["privileged", "baseline", "restricted"]

labels := l if {
	l := admission.namespace_labels
	is_object(l)
} else := {}

label(key) := labels[concat("", [label_prefix, key])]

# The minor version a "latest" or "v1.N" value selects; undefined for anything else.
minor("latest") := latest_minor

minor(v) := min([to_number(n), latest_minor]) if {
	is_string(v)
	regex.match(`^v1\.(0|[1-9][0-9]*)$`, v)
	n := substring(v, 3, -1)
}

version_name(v) := v if minor(v)

version_name(v) := "latest" if not minor(v)

version_minor(v) := m if m := minor(v)

version_minor(v) := latest_minor if not minor(v)

floor_rank := r if r := level_rank[label_floor] else := 0

# Enforce: the label (never below the floor), else data; an invalid value is restricted.
enforce_label_valid if level_rank[label("enforce")]

enforce_rank := max([level_rank[label("enforce")], floor_rank]) if enforce_label_valid
else := 2 if label("enforce")
else := r if r := level_rank[unlabelled.enforce]
else := 2

enforce_version := label("enforce-version") if label("enforce-version")
else := unlabelled["enforce-version"]

# Warn and audit: an invalid value switches the mode off, as in the plugin.
base_warn_rank := r if r := level_rank[unlabelled.warn] else := 0

warn_follows_enforce if {
	not label("warn")
	enforce_label_valid
	enforce_rank > base_warn_rank
}

warn_rank := r if {
	label("warn")
	r := level_rank[label("warn")]
} else := 0 if label("warn")
else := enforce_rank if warn_follows_enforce
else := base_warn_rank

warn_version := label("warn-version") if label("warn-version")
else := enforce_version if warn_follows_enforce
else := unlabelled["warn-version"]

audit_rank := r if {
	label("audit")
	r := level_rank[label("audit")]
} else := 0 if label("audit")
else := r if r := level_rank[unlabelled.audit]
else := 0

audit_version := label("audit-version") if label("audit-version")
else := unlabelled["audit-version"]

policy := {mode: level_version(rank, version) |
	some [mode, rank, version] in [
		["enforce", enforce_rank, enforce_version],
		["warn", warn_rank, warn_version],
		["audit", audit_rank, audit_version],
	]
}

# {rank, minor, name}; name as the plugin prints it in its messages ("baseline:latest").
level_version(rank, version) := {
	"rank": rank,
	"minor": version_minor(version),
	"name": concat(":", [level_names[rank], version_name(version)]),
}
