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

level_rank := {"privileged": 0, "baseline": 1, "restricted": 2}

level_names := ["privileged", "baseline", "restricted"]

labels := l if {
	l := admission.namespace_labels
	is_object(l)
} else := {}

enforce_label := labels["pod-security.kubernetes.io/enforce"]

enforce_version_label := labels["pod-security.kubernetes.io/enforce-version"]

warn_label := labels["pod-security.kubernetes.io/warn"]

warn_version_label := labels["pod-security.kubernetes.io/warn-version"]

audit_label := labels["pod-security.kubernetes.io/audit"]

audit_version_label := labels["pod-security.kubernetes.io/audit-version"]

# [minor, name] of a "latest" or "v1.N" value (N without leading zeros, as the plugin's ^v1\.(0|[1-9][0-9]*)$);
# anything else is latest. No regex: compiling one costs more than the rest of the level.
version(v) := [latest_minor, "latest"] if v == "latest"
else := [min([n, latest_minor]), v] if {
	is_string(v)
	startswith(v, "v1.")
	digits := substring(v, 3, 12)
	digits == substring(v, 3, -1)
	n := to_number(digits)
	n >= 0
	format_int(n, 10) == digits
}
else := [latest_minor, "latest"]

floor_rank := r if r := level_rank[label_floor] else := 0

# Enforce: the label (never below the floor), else data; an invalid value is restricted.
enforce_label_valid if level_rank[enforce_label]

enforce_rank := max([level_rank[enforce_label], floor_rank]) if enforce_label_valid
else := 2 if enforce_label
else := r if r := level_rank[unlabelled.enforce]
else := 2

enforce_version := enforce_version_label if enforce_version_label
else := unlabelled["enforce-version"]

# Warn and audit: an invalid value switches the mode off, as in the plugin.
base_warn_rank := r if r := level_rank[unlabelled.warn] else := 0

warn_follows_enforce if {
	not warn_label
	enforce_label_valid
	enforce_rank > base_warn_rank
}

warn_rank := r if {
	warn_label
	r := level_rank[warn_label]
} else := 0 if warn_label
else := enforce_rank if warn_follows_enforce
else := base_warn_rank

warn_version := warn_version_label if warn_version_label
else := enforce_version if warn_follows_enforce
else := unlabelled["warn-version"]

audit_rank := r if {
	audit_label
	r := level_rank[audit_label]
} else := 0 if audit_label
else := r if r := level_rank[unlabelled.audit]
else := 0

audit_version := audit_version_label if audit_version_label
else := unlabelled["audit-version"]

# A namespace without pod-security labels (most of them) gets what data says, without reading labels.
policy := unlabelled_policy if not labelled
else := {
	"enforce": level_version(enforce_rank, version(enforce_version)),
	"warn": level_version(warn_rank, version(warn_version)),
	"audit": level_version(audit_rank, version(audit_version)),
}

labelled if {
	some key, _ in labels
	startswith(key, "pod-security.kubernetes.io/")
}

unlabelled_policy := {mode: level_version(rank, version(unlabelled[concat("-", [mode, "version"])])) |
	some [mode, rank] in [["enforce", data_rank(unlabelled.enforce, 2)], ["warn", data_rank(unlabelled.warn, 0)], ["audit", data_rank(unlabelled.audit, 0)]]
}

data_rank(level, _) := level_rank[level]

data_rank(level, invalid) := invalid if not level_rank[level]

# {rank, minor, name}; name as the plugin prints it in its messages ("baseline:latest").
level_version(rank, [minor, name]) := {"rank": rank, "minor": minor, "name": concat(":", [level_names[rank], name])}
