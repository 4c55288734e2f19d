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

config_map_owner := {"apiVersion": "v1", "kind": "ConfigMap", "name": "mine", "uid": "6c1f0a2e-0d55-4b8e-9a51-3f7e2b1c9d04"}

with_owners(policy, refs) := object.union(policy, {"metadata": {"ownerReferences": refs}})

update_by(old, obj, username) := object.union(review("UPDATE", obj, old, mesh_namespace), {"request": {"userInfo": {"username": username}}})

create_by(obj, username) := object.union(create_in_mesh(obj), {"request": {"userInfo": {"username": username}}})

test_update_giving_the_default_deny_policy_an_owner_denied if {
	inp := review("UPDATE", with_owners(default_deny, [config_map_owner]), default_deny, mesh_namespace)
	only(inp, "authorization-policy-default-deny")
	messages(inp, "authorization-policy-default-deny") == {"AuthorizationPolicy \"default-deny\" is the default-deny policy of mesh namespace \"team\" and cannot be given an owner: metadata.ownerReferences[0] (ConfigMap \"mine\") would let the garbage collector delete it when that object is deleted; remove the entry (the policy belongs to the platform and goes only with the namespace)"}
	{v.details.field | some v in violations(inp)} == {"metadata.ownerReferences[0]"}
}

test_changed_or_added_owner_entries_denied_each if {
	other := object.union(config_map_owner, {"name": "other", "uid": "0b7d3c9e-5a41-4f2c-8e16-d2a9c4f70b38"})
	old := with_owners(default_deny, [config_map_owner])
	inp := review("UPDATE", with_owners(default_deny, [config_map_owner, other]), old, mesh_namespace)
	{v.details.field | some v in violations(inp)} == {"metadata.ownerReferences[1]"}
	changed := review("UPDATE", with_owners(default_deny, [object.union(config_map_owner, {"uid": "x"})]), old, mesh_namespace)
	only(changed, "authorization-policy-default-deny")
	malformed := review("UPDATE", with_owners(default_deny, "ConfigMap/mine"), default_deny, mesh_namespace)
	messages(malformed, "authorization-policy-default-deny") == {"AuthorizationPolicy \"default-deny\" is the default-deny policy of mesh namespace \"team\" and cannot be given an owner: metadata.ownerReferences[0] (an object) would let the garbage collector delete it when that object is deleted; remove the entry (the policy belongs to the platform and goes only with the namespace)"}
}

test_owner_entries_kept_or_removed_allowed if {
	old := with_owners(default_deny, [config_map_owner])
	clean(review("UPDATE", object.union(old, {"metadata": {"labels": {"a": "b"}}}), old, mesh_namespace))
	clean(review("UPDATE", default_deny, old, mesh_namespace))
	clean(review("UPDATE", with_owners(default_deny, []), old, mesh_namespace))
	clean(review("UPDATE", with_owners(default_deny, null), default_deny, mesh_namespace))
}

test_label_only_update_of_default_deny_allowed if {
	clean(review("UPDATE", object.union(default_deny, {"metadata": {"labels": {"team": "payments"}, "annotations": {"note": "x"}}}), default_deny, mesh_namespace))
}

test_namespace_controller_updates_allowed if {
	finalized := object.union(default_deny, {"metadata": {"finalizers": ["example.com/cleanup"], "deletionTimestamp": "2026-11-20T09:14:03Z"}})
	done := json.remove(finalized, ["metadata/finalizers"])
	namespace_controller := "system:serviceaccount:kube-system:namespace-controller"
	clean(update_by(finalized, done, namespace_controller))
	clean(update_by(finalized, done, "alice@example.com"))
	clean(update_by(default_deny, with_owners(default_deny, [config_map_owner]), namespace_controller))
	clean(update_by(default_deny, with_owners(default_deny, [config_map_owner]), "admin")) with data.portcullis.config.mesh.defaultDenyPolicy.deletableBy as ["admin"]
}

test_creating_the_default_deny_policy_with_an_owner_denied if {
	inp := create_in_mesh(with_owners(default_deny, [config_map_owner]))
	only(inp, "authorization-policy-default-deny")
	{v.details.field | some v in violations(inp)} == {"metadata.ownerReferences[0]"}
	clean(create_by(with_owners(default_deny, [config_map_owner]), "system:kube-controller-manager"))
}

test_owners_of_other_policies_or_outside_the_mesh_allowed if {
	payments := istio("AuthorizationPolicy", "payments-access", {"rules": [caller_rule]})
	clean(create_in_mesh(with_owners(payments, [config_map_owner])))
	clean(review("UPDATE", with_owners(default_deny, [config_map_owner]), default_deny, plain_namespace))
}

test_deny_rules_narrowed_by_to_or_when_are_no_deny_all if {
	every spec in [
		{"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin"]}}]}]},
		{"action": "DENY", "rules": [{"when": [{"key": "source.namespace", "values": ["evil"]}]}]},
		{"action": 1, "rules": [{"from": [{"source": {"not_namespaces": ["web"]}}]}]},
	] {
		inp := review("UPDATE", object.union(default_deny, {"spec": spec}), default_deny, mesh_namespace)
		"authorization-policy-default-deny" in rules(inp)
	}
	clean(review("UPDATE", object.union(default_deny, {"spec": {"action": 1, "rules": [{"from": [{"source": {}}], "to": []}]}}), default_deny, mesh_namespace))
}
