# windowsHostProcess (baseline): a Windows HostProcess container runs as a process of the node.
# Fields: securityContext.windowsOptions.hostProcess of the Pod and of every container. Allowed: absent, false.
package portcullis.podsecurity

import rego.v1

windows_host_process_v1_0 := {f |
	some [obj, base, who, c] in security_context_holders
	[field, value] := read(obj, ["securityContext", "windowsOptions", "hostProcess"], base)
	not value in {null, false}
	f := holder_finding(c, field, sets(who, field, value, "remove it or set it to false"))
}
