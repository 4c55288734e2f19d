# windowsHostProcess (baseline): a Windows HostProcess container runs as a process of the node.
# Fields: securityContext.windowsOptions.hostProcess of the Pod and of every container. Allowed: absent, false.
package portcullis.podsecurity

import rego.v1

windows_host_process_v1_0 := array.concat(malformed_findings(malformed_security_contexts), [f |
	some [obj, base, c] in security_context_holders
	options := obj.securityContext.windowsOptions
	some [path, value, fix] in bad_host_process(options)
	field := concat("", [base, ".securityContext.windowsOptions", path])
	f := holder_finding(c, field, sets(holder_name(c), field, value, fix))
])

bad_host_process(options) := [["", options, "it must be an object"]] if malformed(options)

bad_host_process(options) := [[".hostProcess", options.hostProcess, "remove it or set it to false"]] if {
	options.hostProcess != false
	options.hostProcess != null
}
