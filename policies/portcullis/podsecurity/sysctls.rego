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

sysctls_v1_0 := forbidden_sysctls(safe_sysctls_v1_0)

sysctls_v1_27 := forbidden_sysctls(safe_sysctls_v1_27)

sysctls_v1_29 := forbidden_sysctls(safe_sysctls_v1_29)

sysctls_v1_32 := forbidden_sysctls(safe_sysctls_v1_32)

sysctls_v1_37 := forbidden_sysctls(safe_sysctls_v1_37)

# [field, name] of every sysctl; an entry that is not an object stands for itself.
sysctl_names := [[field, name] |
	[list_field, list] := read(spec, ["securityContext", "sysctls"], spec_field)
	some [entry_field, entry] in list_entries(list_field, list)
	[field, name] := sysctl_name(entry, entry_field)
]

sysctl_name(entry, field) := read(entry, ["name"], field) if is_object(entry)

# An entry that is not an object is refused whole, even when it spells a safe name.
sysctl_name(entry, field) := [field, {"name": entry}] if not is_object(entry)

# The message does not list the safe set, which differs between versions: the same finding under two
# versions is then one finding, reported once in the strongest mode.
forbidden_sysctls(safe) := malformed_sysctls | {f |
	some [field, name] in sysctl_names
	not name in safe
	f := finding(field, sets(kind_name, field, name, "only the safe sysctls of the Pod Security Standards may be set"))
}

malformed_sysctls := {f |
	[field, list] := read(spec, ["securityContext", "sysctls"], spec_field)
	not_a_list(list)
	f := finding(field, sets(kind_name, field, list, "it must be a list of sysctls"))
}
