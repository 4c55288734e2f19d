package portcullis.admission_test

import rego.v1

traffic(name) := concat("", ["traffic.portcullis.io/", name])

annotated_pod(annotations) := object.union(pod, {"metadata": {"annotations": annotations}})

annotated_deployment(annotations) := object.union(deployment_with({}), {"spec": {"template": {"metadata": {"annotations": annotations}}}})

interception_values(inp) := {[v.details.annotation, v.details.value] | some v in violations(inp); v.rule == "traffic-interception"}

test_pod_without_traffic_annotations_allowed if {
	clean(create(annotated_pod({"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"})))
	clean(create(pod))
}

test_excluded_ports_denied_by_default if {
	inp := create(annotated_pod({traffic("excludeInboundPorts"): "8080, 9090", traffic("excludeOutboundPorts"): "5432"}))
	only(inp, "traffic-interception")
	interception_values(inp) == {
		[traffic("excludeInboundPorts"), "8080"], [traffic("excludeInboundPorts"), "9090"],
		[traffic("excludeOutboundPorts"), "5432"],
	}
	"Pod metadata.annotations[\"traffic.portcullis.io/excludeInboundPorts\"] lists port 8080: inbound traffic to it would skip the sidecar (no mutual TLS, no authorization); remove it, or ask an operator to allowlist it in policy data (allowlists.excludedInboundPorts)" in messages(inp, "traffic-interception")
	"Pod metadata.annotations[\"traffic.portcullis.io/excludeOutboundPorts\"] lists port 5432: outbound traffic to it would skip the sidecar (no mutual TLS, no authorization); remove it, or ask an operator to allowlist it in policy data (allowlists.excludedOutboundPorts)" in messages(inp, "traffic-interception")
}

test_allowlisted_ports_allowed if {
	inp := create(annotated_pod({traffic("excludeInboundPorts"): " 15021,080 ,,", traffic("excludeOutboundPorts"): "53"}))
	clean(inp) with data.portcullis.config.allowlists as {"excludedInboundPorts": [15021, "80"], "excludedOutboundPorts": ["53"]}
	interception_values(inp) == {[traffic("excludeOutboundPorts"), "53"]} with data.portcullis.config.allowlists as {"excludedInboundPorts": [15021, "80"], "excludedOutboundPorts": []}
	interception_values(inp) == {[traffic("excludeInboundPorts"), "15021"], [traffic("excludeInboundPorts"), "080"]} with data.portcullis.config.allowlists as {"excludedInboundPorts": [53], "excludedOutboundPorts": [53]}
}

test_inbound_allowlist_does_not_cover_outbound if {
	inp := create(annotated_pod({traffic("excludeOutboundPorts"): "15021"}))
	only(inp, "traffic-interception") with data.portcullis.config.allowlists.excludedInboundPorts as [15021]
}

test_ports_that_are_not_numbers_denied if {
	every value in ["http", "8e1", "-1", "80-90", "*"] {
		interception_values(create(annotated_pod({traffic("excludeInboundPorts"): value}))) == {[traffic("excludeInboundPorts"), value]} with data.portcullis.config.allowlists.excludedInboundPorts as [80, 8, 1]
	}
}

test_empty_annotations_exclude_nothing if {
	clean(create(annotated_pod({traffic("excludeInboundPorts"): "", traffic("excludeOutboundPorts"): " , ", traffic("excludeOutboundIPRanges"): ""})))
}

test_excluded_ranges_must_lie_within_an_allowlisted_range if {
	inp := create(annotated_pod({traffic("excludeOutboundIPRanges"): "10.1.0.0/16, 169.254.169.254/32,fd00:1::/64, 10.0.0.0/7, 0.0.0.0/0"}))
	interception_values(inp) == {
		[traffic("excludeOutboundIPRanges"), "10.1.0.0/16"], [traffic("excludeOutboundIPRanges"), "169.254.169.254/32"],
		[traffic("excludeOutboundIPRanges"), "fd00:1::/64"], [traffic("excludeOutboundIPRanges"), "10.0.0.0/7"],
		[traffic("excludeOutboundIPRanges"), "0.0.0.0/0"],
	}
	interception_values(inp) == {[traffic("excludeOutboundIPRanges"), "10.0.0.0/7"], [traffic("excludeOutboundIPRanges"), "0.0.0.0/0"]} with data.portcullis.config.allowlists.excludedOutboundIPRanges as ["10.0.0.0/8", "169.254.169.254/32", "fd00::/8"]
	"Pod metadata.annotations[\"traffic.portcullis.io/excludeOutboundIPRanges\"] lists 10.0.0.0/7: outbound traffic to it would skip the sidecar (no mutual TLS, no authorization); remove it, or ask an operator to allowlist a range containing it in policy data (allowlists.excludedOutboundIPRanges)" in messages(inp, "traffic-interception") with data.portcullis.config.allowlists.excludedOutboundIPRanges as ["10.0.0.0/8"]
}

test_excluded_ranges_that_are_not_cidrs_denied if {
	every value in ["*", "not-a-range", "10.0.0.0/33"] {
		only(create(annotated_pod({traffic("excludeOutboundIPRanges"): value})), "traffic-interception") with data.portcullis.config.allowlists.excludedOutboundIPRanges as ["0.0.0.0/0", "::/0"]
	}
	clean(create(annotated_pod({traffic("excludeOutboundIPRanges"): "192.0.2.0/24,2001:db8::/32"}))) with data.portcullis.config.allowlists.excludedOutboundIPRanges as ["0.0.0.0/0", "::/0"]
}

test_include_outbound_ranges_must_be_everything if {
	every value in ["*", " * "] {
		clean(create(annotated_pod({traffic("includeOutboundIPRanges"): value})))
	}
	every value in ["10.0.0.0/8", "", "*,10.0.0.0/8", "0.0.0.0/0"] {
		interception_values(create(annotated_pod({traffic("includeOutboundIPRanges"): value}))) == {[traffic("includeOutboundIPRanges"), value]}
	}
	msgs := messages(create(annotated_pod({traffic("includeOutboundIPRanges"): "10.0.0.0/8"})), "traffic-interception")
	msgs == {"Pod metadata.annotations[\"traffic.portcullis.io/includeOutboundIPRanges\"] is \"10.0.0.0/8\": outbound traffic to every address it does not name would skip the sidecar (no mutual TLS, no authorization); remove the annotation or set it to \"*\" (leave ranges out with excludeOutboundIPRanges, allowlisted by an operator in allowlists.excludedOutboundIPRanges), or ask an operator for an exemption from traffic-interception"}
	only(create(annotated_pod({traffic("includeOutboundIPRanges"): "10.0.0.0/8"})), "traffic-interception") with data.portcullis.config.allowlists.excludedOutboundIPRanges as ["0.0.0.0/0"]
}

test_pod_templates_checked if {
	inp := create(annotated_deployment({traffic("excludeInboundPorts"): "8080"}))
	only(inp, "traffic-interception")
	{v.details.field | some v in violations(inp)} == {"spec.template.metadata.annotations[\"traffic.portcullis.io/excludeInboundPorts\"]"}
	cronjob := {
		"apiVersion": "batch/v1",
		"kind": "CronJob",
		"metadata": {"name": "nightly", "namespace": "team"},
		"spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {
			"metadata": {"labels": {"app": "w", "version": "v1"}, "annotations": {traffic("includeOutboundIPRanges"): "10.0.0.0/8"}},
			"spec": pod.spec,
		}}}},
	}
	{v.details.field | some v in violations(create(cronjob))} == {"spec.jobTemplate.spec.template.metadata.annotations[\"traffic.portcullis.io/includeOutboundIPRanges\"]"}
}

test_workload_own_annotations_are_not_the_pods if {
	clean(create(object.union(deployment_with({}), {"metadata": {"annotations": {traffic("excludeInboundPorts"): "8080"}}})))
}

test_update_checks_changed_traffic_annotations_only if {
	old := annotated_deployment({traffic("excludeInboundPorts"): "8080"})
	restarted := annotated_deployment({traffic("excludeInboundPorts"): "8080", "kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"})
	clean(update(old, restarted))
	clean(update(old, annotated_deployment({})))
	only(update(old, annotated_deployment({traffic("excludeInboundPorts"): "8080,9090"})), "traffic-interception")
	only(update(old, annotated_deployment({traffic("excludeInboundPorts"): "8080", traffic("excludeOutboundPorts"): "25"})), "traffic-interception")
	interception_values(update(old, annotated_deployment({traffic("excludeInboundPorts"): "8080", traffic("excludeOutboundPorts"): "25"}))) == {[traffic("excludeOutboundPorts"), "25"]}
	only(update(annotated_pod({}), annotated_pod({traffic("excludeInboundPorts"): "8080"})), "traffic-interception")
}

test_operator_exemption_for_the_rule if {
	inp := create(annotated_pod({traffic("includeOutboundIPRanges"): "10.0.0.0/8"}))
	clean(inp) with data.portcullis.config.exemptions.rules as {"traffic-interception": {"serviceAccounts": ["team/app"]}}
	only(inp, "traffic-interception") with data.portcullis.config.exemptions.rules as {"traffic-interception": {"serviceAccounts": ["team/other"]}}
}

test_delete_of_an_annotated_pod_allowed if clean(delete_in_mesh(annotated_pod({traffic("excludeInboundPorts"): "8080"})))
