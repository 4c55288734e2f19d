# Zero-trust admission rules. Each rule yields {rule, msg, enforcement, details?}.
package portcullis.admission

import rego.v1

config := data.portcullis.config

default_enforcement := "deny"

enforcement(rule) := e if {
	e := config.enforcement[rule]
} else := default_enforcement

pod := input.request.object if input.request.kind.kind == "Pod"

containers contains c if some c in pod.spec.containers

containers contains c if some c in pod.spec.initContainers

raw contains {"rule": "no-privileged", "msg": msg} if {
	some c in containers
	c.securityContext.privileged == true
	msg := sprintf("container %q runs privileged: remove securityContext.privileged", [c.name])
}

violations := [v |
	some r in raw
	v := object.union(r, {"enforcement": enforcement(r.rule)})
]
