package portcullis.admission_test

import rego.v1

# [container, field]; the container is null for the pod's own securityContext.
uid_findings(inp) := {[object.get(v.details, "container", null), v.details.field] | some v in violations(inp); v.rule == "proxy-uid-reserved"}

as_user(ctx) := {"securityContext": ctx}

test_application_container_as_proxy_uid_denied if {
	cases := [
		[pod_with_container(as_user({"runAsUser": 1337})), {["app", "spec.containers[0].securityContext.runAsUser"]}],
		[pod_with_container(as_user({"runAsGroup": 1337})), {["app", "spec.containers[0].securityContext.runAsGroup"]}],
		[pod_with_container(as_user({"runAsUser": 1337.0})), {["app", "spec.containers[0].securityContext.runAsUser"]}],
		[pod_with({"securityContext": {"runAsUser": 1337}}), {[null, "spec.securityContext.runAsUser"]}],
		[pod_with({"securityContext": {"runAsGroup": 1337}}), {[null, "spec.securityContext.runAsGroup"]}],
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
	messages(create_in_mesh(pod_with({"securityContext": {"runAsGroup": 1337}})), "proxy-uid-reserved") == {"Pod sets spec.securityContext.runAsGroup to GID 1337 for its containers, which is reserved for the mesh proxy: the traffic redirect lets its connections through untouched, so they would skip the sidecar (no mutual TLS, no authorization); choose another GID"}
}

test_pod_level_proxy_uid_reported_once if {
	proxy := object.union(proxy_container, {"securityContext": {"runAsUser": 1337, "runAsGroup": 1337}})
	init := object.union(init_container, {"securityContext": {"runAsUser": 0, "runAsGroup": 0}})
	sidecar := object.union(app_container, {"name": "logs"})
	obj := pod_with({"securityContext": {"runAsUser": 1337}, "initContainers": [init], "containers": [app_container, sidecar, proxy]})
	uid_findings(create_injected(obj)) == {[null, "spec.securityContext.runAsUser"]}

	# Whatever the containers: one that sets none, or is added later, would run as the proxy.
	overriding := pod_with({"securityContext": {"runAsUser": 1337, "runAsGroup": 1337}, "containers": [object.union(app_container, {"securityContext": {"runAsUser": 1000, "runAsGroup": 1000}})]})
	uid_findings(create_in_mesh(overriding)) == {[null, "spec.securityContext.runAsUser"], [null, "spec.securityContext.runAsGroup"]}
	uid_findings(create_in_mesh(object.union(pod, {"spec": {"securityContext": {"runAsUser": 1337}, "containers": []}}))) == {[null, "spec.securityContext.runAsUser"]}
}

test_pod_level_proxy_uid_inherited_by_a_container_added_later if {
	# A Pod created outside the mesh (or exempted) keeps its pod-level 1337; kubectl debug in the mesh adds a container that inherits it.
	old := pod_with({"securityContext": {"runAsUser": 1337}})
	debug := {"name": "debug", "image": "registry.example.com/debug:1.0.0"}
	uid_findings(review("UPDATE", object.union(old, {"spec": {"ephemeralContainers": [debug]}}), old, mesh_namespace)) == {["debug", "spec.securityContext.runAsUser"]}

	# A null at container level inherits, as the kubelet reads it; a UID of its own does not.
	nulled := object.union(debug, {"securityContext": {"runAsUser": null}})
	uid_findings(review("UPDATE", object.union(old, {"spec": {"ephemeralContainers": [nulled]}}), old, mesh_namespace)) == {["debug", "spec.securityContext.runAsUser"]}
	own := object.union(debug, {"securityContext": {"runAsUser": 1000}})
	uid_findings(review("UPDATE", object.union(old, {"spec": {"ephemeralContainers": [own]}}), old, mesh_namespace)) == set()
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
		uid_findings(create_in_mesh(obj)) == {[null, "spec.template.spec.securityContext.runAsUser"]}
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
	uid_findings(create(template)) == {[null, "spec.template.spec.securityContext.runAsUser"]}
}

test_proxy_uid_on_update_judges_what_changed if {
	old := pod_with_container(as_user({"runAsUser": 1337}))
	debug := object.union(app_container, {"name": "debug", "securityContext": {"runAsUser": 1337}})
	new := pod_with({"containers": [object.union(app_container, as_user({"runAsUser": 1337}))], "ephemeralContainers": [debug]})
	inp := review("UPDATE", new, old, mesh_namespace)
	uid_findings(inp) == {["debug", "spec.ephemeralContainers[0].securityContext.runAsUser"]}
	old_deployment := deployment_with({})
	new_deployment := deployment_with({"securityContext": {"runAsUser": 1337}})
	uid_findings(review("UPDATE", new_deployment, old_deployment, mesh_namespace)) == {[null, "spec.template.spec.securityContext.runAsUser"]}

	# An unchanged pod-level setting on a workload is not judged again, nor are its unchanged containers.
	relabelled := object.union(new_deployment, {"metadata": {"labels": {"team": "x"}}})
	uid_findings(review("UPDATE", relabelled, new_deployment, mesh_namespace)) == set()
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
