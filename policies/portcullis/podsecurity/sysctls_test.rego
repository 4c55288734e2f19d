package portcullis.podsecurity_test

import rego.v1

with_sysctls(pod, sysctls) := with_sc(pod, null, 0, {"sysctls": sysctls})

sysctl(name) := {"name": name, "value": "1"}

# [sysctl, first version allowing it]
safe_sysctls := [
	["kernel.shm_rmid_forced", 0], ["net.ipv4.ip_local_port_range", 0], ["net.ipv4.tcp_syncookies", 0],
	["net.ipv4.ping_group_range", 0], ["net.ipv4.ip_unprivileged_port_start", 0],
	["net.ipv4.ip_local_reserved_ports", 27],
	["net.ipv4.tcp_keepalive_time", 29], ["net.ipv4.tcp_fin_timeout", 29], ["net.ipv4.tcp_keepalive_intvl", 29],
	["net.ipv4.tcp_keepalive_probes", 29],
	["net.ipv4.tcp_rmem", 32], ["net.ipv4.tcp_wmem", 32],
	["net.ipv4.tcp_slow_start_after_idle", 37], ["net.ipv4.tcp_notsent_lowat", 37],
]

# Each safe sysctl is refused by the version before its own and allowed from it on, at both levels.
test_sysctls_by_version if {
	[[name, since, l] |
		some [name, since] in safe_sysctls
		some l, pod in [with_sysctls(baseline_pod, [sysctl(name)]), with_sysctls(restricted_pod, [sysctl(name)])]
		not sysctl_versions_hold(pod, levels[l], since)
	] == []
}

sysctl_versions_hold(pod, level, 0) if refused_at(pod, level, "v1.0") == set()

sysctl_versions_hold(pod, level, since) if {
	since > 0
	refused_at(pod, level, concat("", ["v1.", format_int(since - 1, 10)])) == {"sysctls"}
	refused_at(pod, level, concat("", ["v1.", format_int(since, 10)])) == set()
	refused(pod, level) == set()
}

test_sysctls if {
	failing_rows([
		["unsafe", with_sysctls(baseline_pod, [sysctl("kernel.msgmax")]), "baseline", {"sysctls"}],
		["unsafe among safe ones", with_sysctls(baseline_pod, [sysctl("net.ipv4.tcp_syncookies"), sysctl("net.core.somaxconn")]), "baseline", {"sysctls"}],
		["another spelling", with_sysctls(baseline_pod, [sysctl("net/ipv4/tcp_syncookies")]), "baseline", {"sysctls"}],
		["upper case", with_sysctls(baseline_pod, [sysctl("NET.IPV4.TCP_SYNCOOKIES")]), "baseline", {"sysctls"}],
		["no name", with_sysctls(baseline_pod, [{"value": "1"}]), "baseline", {"sysctls"}],
		["not a list", with_sysctls(baseline_pod, sysctl("kernel.shm_rmid_forced")), "baseline", {"sysctls"}],
		["an entry that is not an object", with_sysctls(baseline_pod, ["kernel.shm_rmid_forced"]), "baseline", {"sysctls"}],
		["empty", with_sysctls(baseline_pod, []), "baseline", set()],
		["privileged level", with_sysctls(baseline_pod, [sysctl("kernel.msgmax")]), "privileged", set()],
	]) == []
}

# The message does not depend on the version, so a sysctl refused by two versions in force (enforce at
# v1.0, warn at latest) is reported once, in the stronger mode.
test_sysctls_reported_once if {
	pod := with_sysctls(baseline_pod, [sysctl("kernel.msgmax"), sysctl("net.ipv4.tcp_rmem")])
	labels := {psa("enforce"): "baseline", psa("enforce-version"): "v1.0", psa("warn"): "baseline", psa("audit"): "privileged"}
	[v] := pod_security(review(pod, labels))
	[v.enforcement, v.details.fields, v.details.level] == ["deny", ["spec.securityContext.sysctls[0].name", "spec.securityContext.sysctls[1].name"], "baseline:v1.0"]
	v.msg == concat("; ", [
		"Pod sets spec.securityContext.sysctls[0].name to \"kernel.msgmax\": only the safe sysctls of the Pod Security Standards may be set",
		"Pod sets spec.securityContext.sysctls[1].name to \"net.ipv4.tcp_rmem\": only the safe sysctls of the Pod Security Standards may be set",
	])
	newer := {psa("enforce"): "baseline", psa("enforce-version"): "v1.0", psa("warn"): "baseline", psa("warn-version"): "latest", psa("audit"): "privileged"}
	{[v.enforcement, v.details.count] | some v in pod_security(review(pod, newer))} == {["deny", 2]}
}
