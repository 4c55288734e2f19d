package portcullis.admission_test

import rego.v1

privileged_pod := pod_with_container({"securityContext": {"privileged": true}})

two_rule_pod := pod_with({"serviceAccountName": "default", "containers": [object.union(app_container, {"securityContext": {"privileged": true}})]})

test_kube_system_exempt_by_default if {
	inp := object.union(create(privileged_pod), {"request": {"namespace": "kube-system"}})
	clean(inp)
}

test_global_namespace_glob if {
	clean(create(privileged_pod)) with data.portcullis.config.exemptions.namespaces as ["te*"]
	only(create(privileged_pod), "no-privileged") with data.portcullis.config.exemptions.namespaces as ["tea"]
}

test_global_service_account_exemption if {
	clean(create(privileged_pod)) with data.portcullis.config.exemptions.serviceAccounts as ["team/app"]
	clean(create(privileged_pod)) with data.portcullis.config.exemptions.serviceAccounts as ["*/app"]
	only(create(privileged_pod), "no-privileged") with data.portcullis.config.exemptions.serviceAccounts as ["other/app"]
}

test_default_service_account_exemption_for_pod_without_one if {
	inp := create(pod_without_service_account)
	clean(inp) with data.portcullis.config.exemptions.rules as {"no-default-service-account": {"serviceAccounts": ["team/default"]}}
}

test_global_object_exemption if {
	clean(create(privileged_pod)) with data.portcullis.config.exemptions.objects as ["Pod/team/app-*"]
	clean(create(privileged_pod)) with data.portcullis.config.exemptions.objects as ["**"]
	only(create(privileged_pod), "no-privileged") with data.portcullis.config.exemptions.objects as ["Pod/*"]
	only(create(privileged_pod), "no-privileged") with data.portcullis.config.exemptions.objects as ["Deployment/team/app-*"]
}

test_object_names_with_dots_match_globs if {
	dotted := object.union(privileged_pod, {"metadata": {"name": "app.v1"}})
	clean(object.union(create(dotted), {"request": {"name": "app.v1"}})) with data.portcullis.config.exemptions.objects as ["Pod/team/app*"]
}

test_rule_exemption_only_exempts_that_rule if {
	exempt := {"no-privileged": {"namespaces": ["team"]}}
	only(create(two_rule_pod), "no-default-service-account") with data.portcullis.config.exemptions.rules as exempt
	rules(create(two_rule_pod)) == {"no-privileged", "no-default-service-account"}
}

test_rule_exemption_by_object_and_service_account if {
	only(create(two_rule_pod), "no-default-service-account") with data.portcullis.config.exemptions.rules as {"no-privileged": {"objects": ["Pod/team/app-1"]}}
	only(create(two_rule_pod), "no-privileged") with data.portcullis.config.exemptions.rules as {"no-default-service-account": {"serviceAccounts": ["team/default"]}}
}

test_annotations_and_labels_never_exempt if {
	claimed := object.union(privileged_pod, {"metadata": {
		"annotations": {"portcullis.io/exempt": "true", "exemptions.portcullis.io/no-privileged": "true"},
		"labels": {"portcullis.io/exempt": "true"},
	}})
	only(create(claimed), "no-privileged")
	annotated_ns := object.union(plain_namespace, {"annotations": {"portcullis.io/exempt": "true"}, "labels": {"portcullis.io/exempt": "true"}})
	only(review("CREATE", privileged_pod, null, annotated_ns), "no-privileged")
}

test_exemption_for_istio_object if {
	bad := istio("PeerAuthentication", "legacy", {"mtls": {"mode": "PERMISSIVE"}})
	clean(create(bad)) with data.portcullis.config.exemptions.rules as {"peer-authentication-strict": {"objects": ["PeerAuthentication/team/legacy"]}}
}

test_exemptions_without_data_sections if {
	only(create(privileged_pod), "no-privileged") with data.portcullis.config.exemptions as {}
	only(create(privileged_pod), "no-privileged") with data.portcullis.config as {}
}

test_glob_syntax_in_exemptions if {
	every patterns in [["t?am"], ["{prod,team}"], ["tea[lm]"], ["**"], ["team"]] {
		clean(create(privileged_pod)) with data.portcullis.config.exemptions.namespaces as patterns
	}
	every patterns in [["t?m"], ["{prod,staging}"], ["tea[xy]"], ["tea"], []] {
		only(create(privileged_pod), "no-privileged") with data.portcullis.config.exemptions.namespaces as patterns
	}
}
