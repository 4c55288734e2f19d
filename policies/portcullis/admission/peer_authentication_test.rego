package portcullis.admission_test

import rego.v1

peer_authentication(spec) := istio("PeerAuthentication", "mtls", spec)

root_peer_authentication(spec) := object.union(peer_authentication(spec), {"metadata": {"namespace": "istio-system"}})

in_root_namespace(inp) := object.union(inp, {"request": {"namespace": "istio-system"}})

test_strict_allowed if clean(create(peer_authentication({"mtls": {"mode": "STRICT"}})))

test_permissive_denied if {
	inp := create(peer_authentication({"mtls": {"mode": "PERMISSIVE"}}))
	only(inp, "peer-authentication-strict")
	messages(inp, "peer-authentication-strict") == {"PeerAuthentication spec.mtls.mode is PERMISSIVE: set spec.mtls.mode to STRICT so every workload only accepts mutual TLS"}
}

test_disable_denied if only(create(peer_authentication({"mtls": {"mode": "DISABLE"}})), "peer-authentication-strict")

test_misspelled_mode_denied if {
	inp := create(peer_authentication({"mtls": {"mode": "strict"}}))
	rules(inp) == {"object-schema", "peer-authentication-strict"}
}

test_absent_or_unset_mode_inherits_outside_root_namespace if {
	clean(create(peer_authentication({})))
	clean(create(peer_authentication({"mtls": {}})))
	clean(create(peer_authentication({"mtls": {"mode": "UNSET"}})))
}

test_mesh_wide_policy_must_say_strict if {
	every spec in [{}, {"mtls": {"mode": "UNSET"}}] {
		inp := in_root_namespace(create(root_peer_authentication(spec)))
		messages(inp, "peer-authentication-strict") == {"mesh-wide PeerAuthentication (namespace istio-system, no selector) leaves spec.mtls.mode unset, which falls back to Istio's PERMISSIVE default: set spec.mtls.mode to STRICT"}
	}
	clean(in_root_namespace(create(root_peer_authentication({"mtls": {"mode": "STRICT"}}))))
}

test_workload_policy_in_root_namespace_may_inherit if {
	spec := {"selector": {"matchLabels": {"app": "gateway"}}}
	clean(in_root_namespace(create(root_peer_authentication(spec))))
}

test_root_namespace_from_data if {
	inp := create(peer_authentication({}))
	only(inp, "peer-authentication-strict") with data.portcullis.config.mesh.rootNamespace as "team"
}

test_port_level_permissive_and_disable_denied if {
	spec := {
		"selector": {"matchLabels": {"app": "a"}},
		"mtls": {"mode": "STRICT"},
		"portLevelMtls": {"8080": {"mode": "PERMISSIVE"}, "9102": {"mode": "DISABLE"}, "9000": {"mode": "STRICT"}, "9001": {"mode": "UNSET"}, "9002": {}},
	}
	inp := create(peer_authentication(spec))
	{v.details.port | some v in violations(inp)} == {"8080", "9102"}
	"PeerAuthentication spec.portLevelMtls[\"9102\"].mode is DISABLE for port 9102: set it to STRICT, or remove the port entry so the port inherits spec.mtls.mode" in messages(inp, "peer-authentication-strict")
}

test_fixing_update_allowed_and_weakening_update_denied if {
	strict := peer_authentication({"mtls": {"mode": "STRICT"}})
	permissive := peer_authentication({"mtls": {"mode": "PERMISSIVE"}})
	clean(update(permissive, strict))
	only(update(strict, permissive), "peer-authentication-strict")
}

test_delete_of_permissive_policy_allowed if clean(delete_in_mesh(peer_authentication({"mtls": {"mode": "PERMISSIVE"}})))

root_delete(old, username) := object.union(review("DELETE", null, old, plain_namespace), {"request": {
	"namespace": "istio-system",
	"userInfo": {"username": username},
}})

mesh_wide_strict := object.union(root_peer_authentication({"mtls": {"mode": "STRICT"}}), {"metadata": {"name": "default"}})

test_deleting_the_mesh_wide_policy_denied if {
	inp := root_delete(mesh_wide_strict, "alice@example.com")
	only(inp, "peer-authentication-strict")
	messages(inp, "peer-authentication-strict") == {"PeerAuthentication \"default\" is the mesh-wide policy (namespace istio-system, no selector) and cannot be deleted: without it every workload falls back to Istio's PERMISSIVE default and accepts plain text; to change it, replace it with a STRICT one instead (apply it again with spec.mtls.mode STRICT)"}
	only(root_delete(root_peer_authentication({}), "alice@example.com"), "peer-authentication-strict")
	only(root_delete(root_peer_authentication({"selector": {"matchLabels": {}}, "mtls": {"mode": "STRICT"}}), "alice@example.com"), "peer-authentication-strict")
	only(json.remove(root_delete(mesh_wide_strict, "x"), ["request/userInfo"]), "peer-authentication-strict")
}

test_deleting_other_peer_authentications_allowed if {
	workload := root_peer_authentication({"selector": {"matchLabels": {"app": "gateway"}}, "mtls": {"mode": "STRICT"}})
	clean(root_delete(workload, "alice@example.com"))
	clean(delete_in_mesh(peer_authentication({"mtls": {"mode": "STRICT"}})))
	clean(root_delete(mesh_wide_strict, "alice@example.com")) with data.portcullis.config.mesh.rootNamespace as "mesh-root"
}

test_mesh_wide_policy_deletion_by_namespace_controller_or_with_exemption if {
	clean(root_delete(mesh_wide_strict, "system:serviceaccount:kube-system:namespace-controller"))
	only(root_delete(mesh_wide_strict, "system:serviceaccount:kube-system:generic-garbage-collector"), "peer-authentication-strict")
	clean(root_delete(mesh_wide_strict, "ops")) with data.portcullis.config.mesh.meshWidePeerAuthentication.deletableBy as ["ops"]
	clean(root_delete(mesh_wide_strict, "alice@example.com")) with data.portcullis.config.exemptions.rules as {"peer-authentication-strict": {"objects": ["PeerAuthentication/istio-system/default"]}}
	only(root_delete(mesh_wide_strict, "alice@example.com"), "peer-authentication-strict") with data.portcullis.config.exemptions.rules as {"peer-authentication-strict": {"objects": ["PeerAuthentication/istio-system/other"]}}
}

test_update_moving_the_mesh_wide_policy_to_workloads_denied if {
	scoped := object.union(mesh_wide_strict, {"spec": {"selector": {"matchLabels": {"app": "gateway"}}}})
	inp := in_root_namespace(update(mesh_wide_strict, scoped))
	only(inp, "peer-authentication-strict")
	{v.details.field | some v in violations(inp)} == {"spec.selector"}
	messages(inp, "peer-authentication-strict") == {"PeerAuthentication \"default\" is the mesh-wide policy (namespace istio-system, no selector) and spec.selector would turn it into a workload policy, leaving the mesh on Istio's PERMISSIVE default: keep it without a selector (spec.mtls.mode STRICT) and create a separate PeerAuthentication for the selected workloads"}
}

test_updates_keeping_the_mesh_wide_scope_or_outside_it_allowed if {
	scoped := object.union(mesh_wide_strict, {"spec": {"selector": {"matchLabels": {"app": "gateway"}}}})
	clean(in_root_namespace(update(scoped, mesh_wide_strict)))
	clean(in_root_namespace(update(root_peer_authentication({"mtls": {"mode": "PERMISSIVE"}}), mesh_wide_strict)))
	clean(in_root_namespace(update(mesh_wide_strict, object.union(mesh_wide_strict, {"spec": {"selector": {"matchLabels": {}}}}))))
	clean(update(peer_authentication({"mtls": {"mode": "STRICT"}}), object.union(peer_authentication({"mtls": {"mode": "STRICT"}}), {"spec": {"selector": {"matchLabels": {"app": "a"}}}})))
}

# Giving the mesh-wide policy an owner is a metadata-only update and passes, but it is no way to
# delete it: the garbage collector's DELETE is refused, as it is not in deletableBy by default.
test_an_owner_cannot_get_the_mesh_wide_policy_deleted if {
	owned := object.union(mesh_wide_strict, {"metadata": {"ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "mine", "uid": "u"}]}})
	clean(in_root_namespace(update(mesh_wide_strict, owned)))
	only(root_delete(owned, "system:serviceaccount:kube-system:generic-garbage-collector"), "peer-authentication-strict")
	only(root_delete(owned, "system:kube-controller-manager"), "peer-authentication-strict")
}
