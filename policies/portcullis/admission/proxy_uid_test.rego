package portcullis.admission_test

import rego.v1

uid_findings(inp) := {[v.details.container, v.details.field] | some v in violations(inp); v.rule == "proxy-uid-reserved"}

as_user(ctx) := {"securityContext": ctx}

test_application_container_as_proxy_uid_denied if {
	cases := [
		[pod_with_container(as_user({"runAsUser": 1337})), {["app", "spec.containers[0].securityContext.runAsUser"]}],
		[pod_with_container(as_user({"runAsGroup": 1337})), {["app", "spec.containers[0].securityContext.runAsGroup"]}],
		[pod_with_container(as_user({"runAsUser": 1337.0})), {["app", "spec.containers[0].securityContext.runAsUser"]}],
		[pod_with({"securityContext": {"runAsUser": 1337}}), {["app", "spec.securityContext.runAsUser"]}],
		[pod_with({"securityContext": {"runAsGroup": 1337}}), {["app", "spec.securityContext.runAsGroup"]}],
		[
			pod_with({"initContainers": [object.union(app_container, {"name": "migrate", "securityContext": {"runAsUser": 1337}})]}),
			{["migrate", "spec.initContainers[0].securityContext.runAsUser"]},
		],
		[
			pod_with({"ephemeralContainers": [object.union(app_container, {"name": "debug", "securityContext": {"runAsGroup": 1337}})]}),
			{["debug", "spec.ephemeralContainers[0].securityContext.runAsGroup"]},
		],
		# A native sidecar of the author's own is an init container like any other.
		[
			pod_with({"initContainers": [object.union(app_container, {"name": "shipper", "restartPolicy": "Always", "securityContext": {"runAsUser": 1337}})]}),
			{["shipper", "spec.initContainers[0].securityContext.runAsUser"]},
		],
	]
	every c in cases {
		[obj, findings] := c
		inp := create_injected(obj)
		uid_findings(inp) == findings
		rules(inp) == {"proxy-uid-reserved", "sidecar-required"}
	}
}

test_proxy_uid_message if {
	messages(create_in_mesh(pod_with_container(as_user({"runAsUser": 1337}))), "proxy-uid-reserved") == {"container \"app\" runs with UID 1337 (spec.containers[0].securityContext.runAsUser), which is reserved for the mesh proxy: the traffic redirect lets its connections through untouched, so they would skip the sidecar (no mutual TLS, no authorization); choose another UID"}
	messages(create_in_mesh(pod_with({"securityContext": {"runAsGroup": 1337}})), "proxy-uid-reserved") == {"container \"app\" runs with GID 1337 (spec.securityContext.runAsGroup), which is reserved for the mesh proxy: the traffic redirect lets its connections through untouched, so they would skip the sidecar (no mutual TLS, no authorization); choose another GID"}
}

test_pod_level_proxy_uid_reaches_every_container_but_the_injected_ones if {
	proxy := object.union(proxy_container, {"securityContext": {"runAsUser": 1337, "runAsGroup": 1337}})
	init := object.union(init_container, {"securityContext": {"runAsUser": 0, "runAsGroup": 0}})
	sidecar := object.union(app_container, {"name": "logs"})
	obj := pod_with({"securityContext": {"runAsUser": 1337}, "initContainers": [init], "containers": [app_container, sidecar, proxy]})
	uid_findings(create_injected(obj)) == {["app", "spec.securityContext.runAsUser"], ["logs", "spec.securityContext.runAsUser"]}
}

test_container_overriding_pod_level_proxy_uid_allowed if {
	obj := pod_with({"securityContext": {"runAsUser": 1337, "runAsGroup": 1337}, "containers": [object.union(app_container, {"securityContext": {"runAsUser": 1000, "runAsGroup": 1000}})]})
	uid_findings(create_in_mesh(obj)) == set()

	# A null at container level inherits, as the kubelet reads it.
	inherit := pod_with({"securityContext": {"runAsUser": 1337}, "containers": [object.union(app_container, {"securityContext": {"runAsUser": null}})]})
	uid_findings(create_in_mesh(inherit)) == {["app", "spec.securityContext.runAsUser"]}
}

test_other_ids_and_groups_allowed if {
	every ctx in [{"runAsUser": 1000}, {"runAsUser": 1338, "runAsGroup": 1336}, {"runAsUser": 0}] {
		uid_findings(create_in_mesh(pod_with_container(as_user(ctx)))) == set()
	}

	# The redirect matches the primary group only: supplementary groups and fsGroup are not a way around it.
	uid_findings(create_in_mesh(pod_with({"securityContext": {"fsGroup": 1337, "supplementalGroups": [1337]}}))) == set()
}

test_injected_proxy_runs_as_its_uid if {
	proxy := object.union(proxy_container, {"securityContext": {"runAsUser": 1337, "runAsGroup": 1337}})
	clean(create_injected(pod_with({"initContainers": [init_container], "containers": [app_container, proxy]})))
	native := object.union(proxy, {"restartPolicy": "Always"})
	clean(with_sidecar(create_in_mesh(pod_with({"initContainers": [init_container, native]})), verified_native_sidecar))
}

test_hand_written_proxy_as_proxy_uid_denied if {
	fake := object.union(proxy_container, {"securityContext": {"runAsUser": 1337}})
	inp := create_in_mesh(pod_with({"containers": [app_container, fake]}))
	uid_findings(inp) == {["portcullis-proxy", "spec.containers[1].securityContext.runAsUser"]}

	# A claim the injector did not confirm vouches for nothing.
	uid_findings(with_sidecar(inp, {"verified": false, "reason": "x", "initContainers": [], "containers": []})) == {["portcullis-proxy", "spec.containers[1].securityContext.runAsUser"]}
}

test_proxy_uid_in_every_workload_template if {
	every kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"] {
		obj := object.union(deployment_with({"securityContext": {"runAsUser": 1337}}), {"apiVersion": concat("/", [kinds[kind][0], "v1"]), "kind": kind})
		uid_findings(create_in_mesh(obj)) == {["app", "spec.template.spec.securityContext.runAsUser"]}
	}
	cron := {
		"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "team"},
		"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "a", "version": "1"}}, "spec": object.union(pod.spec, {"containers": [object.union(app_container, as_user({"runAsGroup": 1337}))]})}}}},
	}
	uid_findings(create_in_mesh(cron)) == {["app", "spec.jobTemplate.spec.template.spec.containers[0].securityContext.runAsGroup"]}
}

test_proxy_uid_only_where_the_sidecar_is_injected if {
	obj := pod_with_container(as_user({"runAsUser": 1337}))
	uid_findings(create(obj)) == set()
	opted_in := object.union(obj, {"metadata": {"labels": {"sidecar.portcullis.io/inject": "true"}}})
	uid_findings(create(opted_in)) == {["app", "spec.containers[0].securityContext.runAsUser"]}
	template := object.union(deployment_with({"securityContext": {"runAsUser": 1337}}), {"spec": {"template": {"metadata": {"labels": {"sidecar.portcullis.io/inject": "true"}}}}})
	uid_findings(create(template)) == {["app", "spec.template.spec.securityContext.runAsUser"]}
}

test_proxy_uid_on_update_judges_what_changed if {
	old := pod_with_container(as_user({"runAsUser": 1337}))
	debug := object.union(app_container, {"name": "debug", "securityContext": {"runAsUser": 1337}})
	new := pod_with({"containers": [object.union(app_container, as_user({"runAsUser": 1337}))], "ephemeralContainers": [debug]})
	inp := review("UPDATE", new, old, mesh_namespace)
	uid_findings(inp) == {["debug", "spec.ephemeralContainers[0].securityContext.runAsUser"]}
	old_deployment := deployment_with({})
	new_deployment := deployment_with({"securityContext": {"runAsUser": 1337}})
	uid_findings(review("UPDATE", new_deployment, old_deployment, mesh_namespace)) == {["app", "spec.template.spec.securityContext.runAsUser"]}
}

test_proxy_uid_from_data if {
	inp := create_in_mesh(pod_with_container(as_user({"runAsUser": 2102, "runAsGroup": 1337})))
	rules(inp) == {"proxy-uid-reserved", "sidecar-required"}
	messages(inp, "proxy-uid-reserved") == {"container \"app\" runs with GID 1337 (spec.containers[0].securityContext.runAsGroup), which is reserved for the mesh proxy: the traffic redirect lets its connections through untouched, so they would skip the sidecar (no mutual TLS, no authorization); choose another GID"}
}

test_proxy_uid_from_data_other_uid if {
	inp := create_in_mesh(pod_with_container(as_user({"runAsUser": 2102, "runAsGroup": 1337})))
	uid_findings(inp) == {["app", "spec.containers[0].securityContext.runAsUser"]} with data.portcullis.config.mesh.proxy as {"uid": 2102, "gid": 2102}
}

test_proxy_gid_follows_uid_unless_set if {
	inp := create_in_mesh(pod_with_container(as_user({"runAsUser": 2102, "runAsGroup": 1337})))
	uid_findings(inp) == {["app", "spec.containers[0].securityContext.runAsUser"]} with data.portcullis.config as {"mesh": {"proxy": {"uid": 2102}}}
}
