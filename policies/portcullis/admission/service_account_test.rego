package portcullis.admission_test

import rego.v1

pod_without_service_account := object.union(object.remove(pod, ["spec"]), {"spec": {"containers": [app_container]}})

test_named_service_account_allowed if clean(create(pod))

test_absent_service_account_means_default if {
	inp := create(pod_without_service_account)
	only(inp, "no-default-service-account")
	messages(inp, "no-default-service-account") == {"Pod runs as the \"default\" ServiceAccount: create a ServiceAccount for this workload and set spec.serviceAccountName to its name"}
}

test_empty_service_account_name_means_default if {
	only(create(pod_with({"serviceAccountName": ""})), "no-default-service-account")
}

test_explicit_default_service_account_denied if {
	only(create(pod_with({"serviceAccountName": "default"})), "no-default-service-account")
}

test_deprecated_service_account_field_honoured if {
	clean(create(object.union(pod_without_service_account, {"spec": {"serviceAccount": "app"}})))
}

test_default_service_account_in_deployment_names_template_field if {
	inp := create(deployment_with({"serviceAccountName": "default"}))
	only(inp, "no-default-service-account")
	messages(inp, "no-default-service-account") == {"Deployment runs as the \"default\" ServiceAccount: create a ServiceAccount for this workload and set spec.template.spec.serviceAccountName to its name"}
}
