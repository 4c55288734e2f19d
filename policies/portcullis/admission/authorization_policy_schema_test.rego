package portcullis.admission_test

import rego.v1

test_unknown_rule_fields_denied if {
	inp := create(authorization_policy({"rules": [{"from": [caller], "source": {"principals": ["x"]}}]}))
	only(inp, "authorization-policy-valid-rules")
	messages(inp, "authorization-policy-valid-rules") == {"AuthorizationPolicy spec.rules[0] uses unknown field source: a rule holds only from, to and when, and conditions such as key/values belong under when, e.g. spec.rules[0]: {when: [{key: <attribute>, values: [...]}]}"}
}

test_source_fields_outside_source_denied if {
	inp := create(authorization_policy({"rules": [{"from": [{"principals": ["cluster.local/ns/web/sa/frontend"]}]}]}))
	only(inp, "authorization-policy-valid-rules")
	messages(inp, "authorization-policy-valid-rules") == {"AuthorizationPolicy spec.rules[0].from[0] uses unknown field principals: caller fields belong under source, e.g. from: [{source: {principals: [...]}}]"}
}

test_operation_fields_outside_operation_denied if {
	inp := create(authorization_policy({"rules": [{"from": [caller], "to": [{"methods": ["GET"], "paths": ["/"]}]}]}))
	messages(inp, "authorization-policy-valid-rules") == {"AuthorizationPolicy spec.rules[0].to[0] uses unknown fields methods/paths: request fields belong under operation, e.g. to: [{operation: {methods: [...], paths: [...]}}]"}
}

test_condition_fields_checked if {
	inp := create(authorization_policy({"rules": [{"when": [{"key": "source.ip", "value": "10.0.0.1"}]}]}))
	rules(inp) == {"authorization-policy-valid-rules"}
	{v.details.field | some v in violations(inp)} == {"spec.rules[0].when[0]"}
}

test_rules_must_be_a_list_of_objects if {
	only(create(authorization_policy({"rules": {"from": [caller]}})), "authorization-policy-valid-rules")
	inp := create(authorization_policy({"rules": ["allow-all"]}))
	messages(inp, "authorization-policy-valid-rules") == {"AuthorizationPolicy spec.rules[0] is not an object: a rule is {from: [...], to: [...], when: [...]}"}
}

test_unknown_action_denied if {
	inp := create(authorization_policy({"action": "PERMIT", "rules": [caller_rule]}))
	messages(inp, "authorization-policy-valid-rules") == {"AuthorizationPolicy spec.action \"PERMIT\" is not one of ALLOW, DENY, AUDIT, CUSTOM: fix spec.action"}
}

test_valid_custom_policy_allowed if {
	clean(create(authorization_policy({"action": "CUSTOM", "provider": {"name": "portcullis"}, "rules": [{"to": [{"operation": {"paths": ["/admin/*"]}}]}]})))
}
