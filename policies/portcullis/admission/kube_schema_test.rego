package portcullis.admission_test

import rego.v1

privileged := {"securityContext": {"privileged": true}}

test_containers_behind_wrong_types_are_refused if {
	every case in [
		[pod_with({"containers": {"app": object.union(app_container, privileged)}}), "spec.containers"],
		[pod_with({"containers": ["app"]}), "spec.containers[0]"],
		[pod_with({"initContainers": [null]}), "spec.initContainers[0]"],
		[pod_with_container({"securityContext": {"privileged": "true"}}), "spec.containers[0].securityContext.privileged"],
		[pod_with_container({"securityContext": {"privileged": 1}}), "spec.containers[0].securityContext.privileged"],
		[pod_with_container({"securityContext": "privileged"}), "spec.containers[0].securityContext"],
		[pod_with_container({"securityContext": {"capabilities": {"add": "SYS_ADMIN"}}}), "spec.containers[0].securityContext.capabilities.add"],
		[pod_with_container({"securityContext": {"capabilities": ["SYS_ADMIN"]}}), "spec.containers[0].securityContext.capabilities"],
		[pod_with_container({"image": ["registry.example.com/team/app:1.0.0"]}), "spec.containers[0].image"],
		[pod_with_container({"name": 123}), "spec.containers[0].name"],
		[pod_with({"hostNetwork": "true"}), "spec.hostNetwork"],
		[pod_with({"serviceAccountName": ["app"]}), "spec.serviceAccountName"],
		[pod_with_container({"securityContext": {"runAsUser": "1337"}}), "spec.containers[0].securityContext.runAsUser"],
		[pod_with_container({"securityContext": {"runAsGroup": 1337.5}}), "spec.containers[0].securityContext.runAsGroup"],
		[pod_with({"securityContext": "1337"}), "spec.securityContext"],
		[pod_with({"securityContext": {"runAsUser": [1337]}}), "spec.securityContext.runAsUser"],
		[deployment_with({"securityContext": {"runAsGroup": true}}), "spec.template.spec.securityContext.runAsGroup"],
		[object.union(pod, {"spec": "containers"}), "spec"],
		[object.union(pod, {"metadata": {"labels": {"app": 1}}}), "metadata.labels[\"app\"]"],
		[object.union(pod, {"metadata": {"annotations": {"traffic.portcullis.io/excludeInboundPorts": 8080}}}), "metadata.annotations[\"traffic.portcullis.io/excludeInboundPorts\"]"],
		[object.union(deployment_with({}), {"spec": {"template": "pod"}}), "spec.template"],
		[object.union(deployment_with({}), {"spec": {"template": {"spec": []}}}), "spec.template.spec"],
		[deployment_with({"containers": [{"image": "registry.example.com/team/app:1.0.0"}]}), "spec.template.spec.containers[0]"],
		[deployment_with({"containers": [{"name": "app"}]}), "spec.template.spec.containers[0]"],
	] {
		[obj, field] := case
		v := violations(create(obj))
		some found in v
		found.rule == "object-schema"
		found.details.field == field
	}
}

test_violations_still_reported_beside_a_bad_name if {
	every name in [123, null, ["app"], {"n": 1}] {
		inp := create(pod_with({"containers": [object.union(app_container, object.union(privileged, {"name": name}))]}))
		"no-privileged" in rules(inp)
		"object-schema" in rules(inp)
	}
	inp := create(pod_with({"containers": [object.remove(object.union(app_container, privileged), ["name"])]}))
	messages(inp, "no-privileged") == {"container without a valid name runs privileged: remove spec.containers[0].securityContext.privileged or set it to false"}
	caps := create(pod_with_container({"securityContext": {"capabilities": {"add": [1, "SYS_ADMIN"]}}}))
	{v.details.capability | some v in violations(caps); v.rule == "capabilities-allowlist"} == {1, "SYS_ADMIN"}
}

test_every_pod_bearing_kind_is_shape_checked if {
	every kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"] {
		obj := object.union(deployment_with({}), {"kind": kind, "spec": {"template": 7}})
		"object-schema" in rules(create(obj))
	}
	cron := {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c", "namespace": "team"}, "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": "app"}}}}}}
	{v.details.field | some v in violations(create(cron)); v.rule == "object-schema"} == {"spec.jobTemplate.spec.template.spec.containers"}
}

test_well_typed_objects_pass if {
	clean(create(pod))
	clean(create(deployment_with({})))
	clean(create(pod_with_container({"securityContext": {"privileged": false, "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}}, "restartPolicy": null})))
	clean(create(pod_with({"securityContext": {"runAsUser": 1000, "runAsGroup": null}, "containers": [object.union(app_container, {"securityContext": {"runAsUser": 1000.0}})]})))
	clean(create(object.union(pod, {"metadata": {"labels": null, "annotations": {"a": "b"}}}))) with data.portcullis.config.requiredPodLabels as []
}

test_an_unchanged_malformed_template_is_not_judged_again if {
	bad := object.union(deployment_with({}), {"spec": {"template": "pod"}})
	clean(update(bad, object.union(bad, {"metadata": {"labels": {"x": "y"}}})))
}

test_service_ports_behind_wrong_types_are_refused if {
	service := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "team"}, "spec": {"ports": [{"name": "http", "port": 80}]}}
	clean(create(service))
	every case in [
		[{"ports": {"http": {"port": 80}}}, "spec.ports"],
		[{"ports": ["http"]}, "spec.ports[0]"],
		[{"ports": [{"name": 80, "port": 80}]}, "spec.ports[0].name"],
		[{"ports": [{"name": "http", "port": "80"}]}, "spec.ports[0].port"],
		[{"ports": [{"appProtocol": ["http"], "port": 80}]}, "spec.ports[0].appProtocol"],
	] {
		[spec, field] := case
		field in {v.details.field | some v in violations(create(object.union(service, {"spec": spec}))); v.rule == "object-schema"}
	}
	only(create(object.union(service, {"spec": "ports"})), "object-schema")
	rules(create(object.union(service, {"spec": {"ports": [{"name": 80, "port": 80}]}}))) == {"object-schema", "service-port-protocol"}
}
