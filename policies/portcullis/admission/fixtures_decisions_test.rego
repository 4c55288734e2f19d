package portcullis.admission_test

import rego.v1

with_context(review, namespace) := {"request": review.request, "context": {"namespace": namespace, "cluster": cluster}}

payments(labels) := {"name": "payments", "labels": labels, "annotations": {}}

test_fixture_pod_passes_every_rule if {
	clean(with_context(fixture_pod_create_deployment, payments({})))
	clean(with_context(fixture_pod_create_deployment, null))
	clean({"request": fixture_pod_create_deployment.request})
}

test_fixture_pod_in_mesh_namespace_needs_the_sidecar if {
	inp := with_context(fixture_pod_create_deployment, payments({"portcullis.io/injection": "enabled"}))
	only(inp, "sidecar-required")
}

test_fixture_pod_after_injection_passes if {
	request := fixture_pod_create_deployment.request
	injected := json.patch(request.object, [
		{"op": "add", "path": "/spec/initContainers", "value": [init_container]},
		{"op": "add", "path": "/spec/containers/-", "value": proxy_container},
	])
	clean({"request": object.union(request, {"object": injected}), "context": {"namespace": payments({"portcullis.io/injection": "enabled"}), "cluster": cluster, "sidecar": verified_sidecar}})
}

test_fixture_permissive_peer_authentication_denied if {
	inp := with_context(fixture_peerauthentication_permissive, payments({"portcullis.io/injection": "enabled"}))
	vs := violations(inp)
	{[v.rule, v.details.field, v.enforcement] | some v in vs} == {
		["peer-authentication-strict", "spec.mtls.mode", "deny"],
		["peer-authentication-strict", "spec.portLevelMtls[\"9102\"].mode", "deny"],
	}
}

test_fixture_peer_authentication_warn_only_when_overridden if {
	vs := violations(with_context(fixture_peerauthentication_permissive, null)) with data.portcullis.config.enforcement as {"peer-authentication-strict": "warn"}
	{v.enforcement | some v in vs} == {"warn"}
}
