# sysctls (baseline): only sysctls that are namespaced and isolated from other Pods on the node are safe.
# Field: spec.securityContext.sysctls[*].name. Allowed: the safe set of the version (1.0: five; 1.27:
# net.ipv4.ip_local_reserved_ports; 1.29: four TCP keepalive and FIN timeouts; 1.32: TCP buffer sizes;
# 1.37: TCP slow start after idle and not-sent low watermark).
package portcullis.podsecurity

import rego.v1

safe_sysctls_v1_0 := {
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.ping_group_range",
	"net.ipv4.ip_unprivileged_port_start",
}

safe_sysctls_v1_27 := safe_sysctls_v1_0 | {"net.ipv4.ip_local_reserved_ports"}

safe_sysctls_v1_29 := safe_sysctls_v1_27 | {
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_fin_timeout",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
}

safe_sysctls_v1_32 := safe_sysctls_v1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}

safe_sysctls_v1_37 := safe_sysctls_v1_32 | {"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"}

sysctls_v1_0 := forbidden_sysctls(0)

sysctls_v1_27 := forbidden_sysctls(27)

sysctls_v1_29 := forbidden_sysctls(29)

sysctls_v1_32 := forbidden_sysctls(32)

sysctls_v1_37 := forbidden_sysctls(37)

# Referred to only once a Pod has sysctls: building the sets costs more than most checks.
safe_sysctls(0) := safe_sysctls_v1_0

safe_sysctls(27) := safe_sysctls_v1_27

safe_sysctls(29) := safe_sysctls_v1_29

safe_sysctls(32) := safe_sysctls_v1_32

safe_sysctls(37) := safe_sysctls_v1_37

sysctls_field := concat(".", [spec_field, "securityContext.sysctls"])

# The message does not list the safe set, which differs between versions: the same finding under two
# versions in force is one finding, reported once in the stronger mode.
forbidden_sysctls(version) := array.concat(malformed_sysctls, [f |
	is_array(spec.securityContext.sysctls)
	some i, entry in spec.securityContext.sysctls
	entry_field := concat("", [sysctls_field, "[", format_int(i, 10), "]"])
	some [field, name] in sysctl_name(entry, entry_field)
	not name in safe_sysctls(version)
	f := finding(field, sets(kind_name, field, name, "only the safe sysctls of the Pod Security Standards may be set"))
])

# [[field, name]]; an entry that is not an object is refused whole, even when it spells a safe name.
sysctl_name(entry, field) := [[concat(".", [field, "name"]), object.get(entry, "name", null)]] if is_object(entry)

sysctl_name(entry, field) := [[field, {"name": entry}]] if not is_object(entry)

# sysctls, or the securityContext holding them, of the wrong type.
malformed_sysctls := array.concat(malformed_findings(malformed_pod_security_context), [f |
	list := spec.securityContext.sysctls
	list != null
	not is_array(list)
	f := finding(sysctls_field, sets(kind_name, sysctls_field, list, "it must be a list of sysctls"))
])
