package portcullis.admission_test

import rego.v1

bad_pod_spec := {
	"hostPID": true,
	"serviceAccountName": "default",
	"containers": [{"name": "app", "image": "nginx", "securityContext": {"privileged": true}}],
}

pod_rules := {"no-host-namespaces", "no-default-service-account", "no-privileged", "image-registry-allowlist", "image-tag-pinned"}

workload(kind, template) := {"apiVersion": "v1", "kind": kind, "metadata": {"name": "w", "namespace": "team"}, "spec": {"template": template}}

test_pod_template_kinds_checked if {
	template := {"metadata": {"labels": {"app": "w", "version": "v1"}}, "spec": bad_pod_spec}
	every kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"] {
		rules(create(workload(kind, template))) == pod_rules
	}
}

test_cronjob_job_template_checked if {
	template := {"metadata": {"labels": {"app": "w"}}, "spec": bad_pod_spec}
	cronjob := {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"name": "nightly", "namespace": "team"},
		"spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}},
	}
	inp := create(cronjob)
	rules(inp) == pod_rules | {"required-labels"}
	"container \"app\" runs privileged: remove spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged or set it to false" in messages(inp, "no-privileged")
	"CronJob is missing label \"version\": add it under spec.jobTemplate.spec.template.metadata.labels (e.g. version: v1)" in messages(inp, "required-labels")
}

test_clean_deployment_allowed_even_in_mesh if clean(create_in_mesh(deployment_with({})))

test_deployment_scale_does_not_recheck_template if {
	old := deployment_with({"serviceAccountName": "default"})
	scaled := object.union(old, {"spec": {"replicas": 5}})
	clean(update(old, scaled))
}

test_deployment_template_change_rechecked if {
	old := deployment_with({"serviceAccountName": "default"})
	changed := deployment_with({"serviceAccountName": "default", "hostIPC": true})
	rules(update(old, changed)) == {"no-host-namespaces", "no-default-service-account"}
}

test_workload_kind_of_another_group_ignored if {
	crd := object.union(workload("Deployment", {"spec": bad_pod_spec}), {"apiVersion": "example.com/v1"})
	inp := object.union(create(crd), {"request": {"kind": {"group": "example.com"}}})
	clean(inp)
}
