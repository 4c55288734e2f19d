package portcullis.admission_test

import rego.v1

default_deny := istio("AuthorizationPolicy", "default-deny", {})

delete_by(old, username) := object.union(delete_in_mesh(old), {"request": {"userInfo": {"username": username}}})

test_creating_the_default_deny_policy_allowed if {
	clean(create_in_mesh(default_deny))
	clean(create_in_mesh(object.union(default_deny, {"spec": {"action": "DENY", "rules": [{}]}})))
	clean(create_in_mesh(object.union(default_deny, {"spec": {"action": "ALLOW", "rules": []}})))
}

test_deleting_the_default_deny_policy_in_a_mesh_namespace_denied if {
	inp := delete_in_mesh(default_deny)
	only(inp, "authorization-policy-default-deny")
	messages(inp, "authorization-policy-default-deny") == {"AuthorizationPolicy \"default-deny\" is the default-deny policy of mesh namespace \"team\" and cannot be deleted: add ALLOW policies for the traffic you need instead (it may only go once the namespace leaves the mesh)"}
}

test_delete_without_user_info_denied if {
	only(json.remove(delete_in_mesh(default_deny), ["request/userInfo"]), "authorization-policy-default-deny")
}

test_namespace_controller_may_delete_it if {
	clean(delete_by(default_deny, "system:serviceaccount:kube-system:namespace-controller"))
	clean(delete_by(default_deny, "system:kube-controller-manager"))
	only(delete_by(default_deny, "system:serviceaccount:kube-system:replicaset-controller"), "authorization-policy-default-deny")
}

test_deleting_it_outside_the_mesh_allowed if {
	clean(review("DELETE", null, default_deny, plain_namespace))
	clean(review("DELETE", null, default_deny, null))
}

test_deleting_other_policies_allowed if clean(delete_in_mesh(istio("AuthorizationPolicy", "payments-access", {"rules": [caller_rule]})))

test_weakening_update_denied if {
	every spec in [
		{"rules": [caller_rule]},
		{"action": "DENY", "rules": [caller_rule]},
		{"selector": {"matchLabels": {"app": "payments"}}},
		{"targetRefs": [{"kind": "Gateway", "name": "ingress"}]},
		{"targetRef": {"kind": "Gateway", "name": "ingress"}},
		{"action": "AUDIT"},
	] {
		inp := review("UPDATE", object.union(default_deny, {"spec": spec}), default_deny, mesh_namespace)
		"authorization-policy-default-deny" in rules(inp)
		messages(inp, "authorization-policy-default-deny") == {"AuthorizationPolicy \"default-deny\" is the default-deny policy of mesh namespace \"team\" and must deny everything: set spec to {} (no selector, no rules), and put exceptions in separate ALLOW policies"}
	}
}

test_creating_a_non_deny_policy_under_the_reserved_name_denied if {
	only(create_in_mesh(object.union(default_deny, {"spec": {"rules": [caller_rule]}})), "authorization-policy-default-deny")
}

test_metadata_update_of_default_deny_allowed if {
	clean(review("UPDATE", object.union(default_deny, {"metadata": {"labels": {"a": "b"}}}), default_deny, mesh_namespace))
}

test_reserved_name_and_deleters_from_data if {
	baseline := istio("AuthorizationPolicy", "baseline", {})
	only(delete_in_mesh(baseline), "authorization-policy-default-deny") with data.portcullis.config.mesh.defaultDenyPolicy as {"name": "baseline", "deletableBy": ["admin"]}
	clean(delete_by(baseline, "admin")) with data.portcullis.config.mesh.defaultDenyPolicy as {"name": "baseline", "deletableBy": ["admin"]}
	clean(delete_in_mesh(default_deny)) with data.portcullis.config.mesh.defaultDenyPolicy as {"name": "baseline", "deletableBy": ["admin"]}
}
