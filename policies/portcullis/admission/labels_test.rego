package portcullis.admission_test

import rego.v1

test_pod_with_app_and_version_allowed if clean(create(pod))

test_pod_without_labels_denied if {
	inp := create(object.union(object.remove(pod, ["metadata"]), {"metadata": {"name": "app-1"}}))
	only(inp, "required-labels")
	messages(inp, "required-labels") == {
		"Pod is missing label \"app\": add it under metadata.labels (e.g. app: my-service)",
		"Pod is missing label \"version\": add it under metadata.labels (e.g. version: v1)",
	}
}

test_empty_label_value_counts_as_missing if {
	inp := create(object.union(pod, {"metadata": {"labels": {"version": ""}}}))
	{v.details.label | some v in violations(inp)} == {"version"}
}

test_deployment_template_labels_checked if {
	d := deployment_with({})
	bare := object.union(d, {"spec": {"template": {"metadata": {"labels": {"app": "app", "version": ""}}}}})
	inp := create(bare)
	messages(inp, "required-labels") == {"Deployment is missing label \"version\": add it under spec.template.metadata.labels (e.g. version: v1)"}
}

test_required_labels_from_data if {
	inp := create(pod)
	{v.details.label | some v in violations(inp)} == {"team"} with data.portcullis.config.requiredPodLabels as ["app", "team"]
}

test_label_only_update_with_unchanged_labels_not_checked if {
	unlabelled := object.union(object.remove(pod, ["metadata"]), {"metadata": {"name": "app-1"}})
	finalizing := object.union(unlabelled, {"metadata": {"finalizers": []}})
	clean(update(unlabelled, finalizing))
}

test_update_that_removes_a_label_checked if {
	unlabelled := object.union(object.remove(pod, ["metadata"]), {"metadata": {"name": "app-1", "labels": {"app": "app"}}})
	only(update(pod, unlabelled), "required-labels")
}
