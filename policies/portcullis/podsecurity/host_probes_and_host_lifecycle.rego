# hostProbesAndHostLifecycle (baseline, from 1.34): a probe or lifecycle handler with a host makes the
# kubelet connect, from the node, to any address the author names.
# Fields: host of httpGet and tcpSocket in livenessProbe, readinessProbe, startupProbe and in
# lifecycle.postStart and lifecycle.preStop of every container. Allowed: absent, "".
package portcullis.podsecurity

import rego.v1

# [path, handler] of every probe and lifecycle handler of a container.
handlers(c) := array.concat(
	[[probe, c[probe]] | some probe in ["livenessProbe", "readinessProbe", "startupProbe"]],
	[[concat(".", ["lifecycle", hook]), c.lifecycle[hook]] | some hook in ["postStart", "preStop"]],
)

host_probes_and_host_lifecycle_v1_34 := [f |
	some [c, base] in containers
	some [path, value, fix] in bad_hosts(c)
	field := concat(".", [base, path])
	f := container_finding(c, field, sets(subject(c), field, value, fix))
]

bad_hosts(c) := array.concat(
	[["lifecycle", c.lifecycle, "it must be an object"] | malformed(c.lifecycle)],
	[[p, v, fix] |
		some [path, handler] in handlers(c)
		some [p, v, fix] in bad_handler_host(path, handler)
	],
)

bad_handler_host(path, handler) := [[path, handler, "it must be an object"]] if malformed(handler)

bad_handler_host(path, handler) := [bad |
	some action in ["httpGet", "tcpSocket"]
	some bad in bad_action_host(concat(".", [path, action]), handler[action])
] if is_object(handler)

bad_action_host(path, action) := [[path, action, "it must be an object"]] if malformed(action)

bad_action_host(path, action) := [[concat(".", [path, "host"]), action.host, "remove it so the kubelet connects to the Pod's own address"]] if {
	is_object(action)
	action.host != ""
	action.host != null
}
