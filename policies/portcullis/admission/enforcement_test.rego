package portcullis.admission_test

import rego.v1

test_default_enforcement_is_deny if {
	every v in violations(create(two_rule_pod)) {
		v.enforcement == "deny"
	}
}

test_enforcement_override_per_rule if {
	inp := create(two_rule_pod)
	vs := violations(inp) with data.portcullis.config.enforcement as {"no-default-service-account": "warn", "no-privileged": "dryrun"}
	{[v.rule, v.enforcement] | some v in vs} == {["no-default-service-account", "warn"], ["no-privileged", "dryrun"]}
}

test_unknown_enforcement_value_falls_back_to_deny if {
	vs := violations(create(two_rule_pod)) with data.portcullis.config.enforcement as {"no-privileged": "off"}
	{v.enforcement | some v in vs} == {"deny"}
}

test_every_violation_has_the_contract_shape if {
	inp := create(pod_with({"hostNetwork": true, "serviceAccountName": "default", "containers": [{"name": "app", "image": "nginx", "securityContext": {"privileged": true, "capabilities": {"add": ["SYS_ADMIN"]}}}]}))
	vs := violations(inp)
	count(vs) == 6
	every v in vs {
		object.keys(v) == {"rule", "msg", "enforcement", "details"}
		regex.match(`^[a-z]+(-[a-z]+)*$`, v.rule)
		v.enforcement in {"deny", "warn", "dryrun"}
		is_object(v.details)
	}
}

# The service orders violations by rule then message (sort is quadratic in WebAssembly); here
# each finding is listed once.
test_violations_list_each_finding_once if {
	vs := violations(create(pod_with({"hostNetwork": true, "hostPID": true, "serviceAccountName": "default", "containers": [{"name": "app", "image": "nginx", "securityContext": {"privileged": true}}]})))
	count(vs) == 6
	{[v.rule, v.details.field] | some v in vs} == {
		["image-registry-allowlist", "spec.containers[0].image"],
		["image-tag-pinned", "spec.containers[0].image"],
		["no-default-service-account", "spec.serviceAccountName"],
		["no-host-namespaces", "spec.hostNetwork"],
		["no-host-namespaces", "spec.hostPID"],
		["no-privileged", "spec.containers[0].securityContext.privileged"],
	}
}
