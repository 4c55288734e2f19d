package portcullis.podsecurity_test

import rego.v1

import data.portcullis.podsecurity

names(labels) := {mode: lv.name | some mode, lv in p} if {
	p := podsecurity.policy with input as review(baseline_pod, labels)
}

test_levels_from_labels if {
	[[labels, names(labels)] |
		some [labels, want] in [
			[{}, ["baseline:latest", "restricted:latest", "restricted:latest"]],
			[{psa("enforce"): "restricted"}, ["restricted:latest", "restricted:latest", "restricted:latest"]],
			[{psa("enforce"): "privileged"}, ["privileged:latest", "restricted:latest", "restricted:latest"]],
			[{psa("enforce"): "baseline", psa("enforce-version"): "v1.20"}, ["baseline:v1.20", "restricted:latest", "restricted:latest"]],
			[{psa("warn"): "baseline", psa("warn-version"): "v1.30", psa("audit"): "privileged"}, ["baseline:latest", "baseline:v1.30", "privileged:latest"]],
			# Invalid values: enforce fails closed, warn and audit switch off, versions become latest.
			[{psa("enforce"): "Restricted"}, ["restricted:latest", "restricted:latest", "restricted:latest"]],
			[{psa("enforce"): ""}, ["restricted:latest", "restricted:latest", "restricted:latest"]],
			[{psa("warn"): "strict", psa("audit"): "yes"}, ["baseline:latest", "privileged:latest", "privileged:latest"]],
			[{psa("enforce-version"): "1.20"}, ["baseline:latest", "restricted:latest", "restricted:latest"]],
			[{psa("enforce-version"): "v1.020"}, ["baseline:latest", "restricted:latest", "restricted:latest"]],
			[{psa("enforce-version"): "v2.0"}, ["baseline:latest", "restricted:latest", "restricted:latest"]],
			[{psa("enforce-version"): "v1.-1"}, ["baseline:latest", "restricted:latest", "restricted:latest"]],
			[{psa("enforce-version"): "v1.0"}, ["baseline:v1.0", "restricted:latest", "restricted:latest"]],
			[{psa("enforce-version"): "v1.99"}, ["baseline:v1.99", "restricted:latest", "restricted:latest"]],
		]
		names(labels) != {"enforce": want[0], "warn": want[1], "audit": want[2]}
	] == []
}

test_newer_versions_are_the_newest if {
	lv := podsecurity.policy.enforce with input as review(baseline_pod, {psa("enforce-version"): "v1.99"})
	lv.minor == podsecurity.latest_minor
	podsecurity.latest_minor == 37
	older := podsecurity.policy.enforce with input as review(baseline_pod, {psa("enforce-version"): "v1.20"})
	older.minor == 20
}

# As the plugin does, an enforce label above the warn level raises warn to it, with its version unless a
# warn-version label is there.
test_enforce_label_raises_warn if {
	quiet := {"warn": "privileged", "audit": "privileged"}
	names({psa("enforce"): "baseline", psa("enforce-version"): "v1.25"}) == {"enforce": "baseline:v1.25", "warn": "baseline:v1.25", "audit": "privileged:latest"} with data.portcullis.config.podSecurity as quiet
	names({psa("enforce"): "baseline", psa("enforce-version"): "v1.25", psa("warn-version"): "v1.30"}) == {"enforce": "baseline:v1.25", "warn": "baseline:v1.30", "audit": "privileged:latest"} with data.portcullis.config.podSecurity as quiet
	names({psa("enforce"): "baseline", psa("warn"): "privileged"}) == {"enforce": "baseline:latest", "warn": "privileged:latest", "audit": "privileged:latest"} with data.portcullis.config.podSecurity as quiet
	names({psa("enforce"): "bogus"}) == {"enforce": "restricted:latest", "warn": "privileged:latest", "audit": "privileged:latest"} with data.portcullis.config.podSecurity as quiet
	names({}) == {"enforce": "baseline:latest", "warn": "privileged:latest", "audit": "privileged:latest"} with data.portcullis.config.podSecurity as quiet
}

test_levels_from_data if {
	settings := {"enforce": "privileged", "warn": "baseline", "audit-version": "v1.30", "namespaces": [
		{"names": ["other"], "enforce": "baseline"},
		{"names": ["te*"], "enforce": "restricted", "enforce-version": "v1.28"},
		{"names": ["team"], "enforce": "baseline"},
	]}
	names({}) == {"enforce": "restricted:v1.28", "warn": "baseline:latest", "audit": "restricted:v1.30"} with data.portcullis.config.podSecurity as settings
	# A label replaces its own key only: the version still comes from data.
	names({psa("enforce"): "baseline"}) == {"enforce": "baseline:v1.28", "warn": "baseline:latest", "audit": "restricted:v1.30"} with data.portcullis.config.podSecurity as settings
	names({}) == {"enforce": "privileged:latest", "warn": "baseline:latest", "audit": "restricted:v1.30"} with data.portcullis.config.podSecurity as object.remove(settings, ["namespaces"])
	# A mistake in data fails closed for enforce, as a label does.
	names({}) == {"enforce": "restricted:latest", "warn": "privileged:latest", "audit": "restricted:latest"} with data.portcullis.config.podSecurity as {"enforce": "strict", "warn": 1}
	names({}) == {"enforce": "baseline:latest", "warn": "restricted:latest", "audit": "restricted:latest"} with data.portcullis.config.podSecurity as "restricted"
}

test_label_floor if {
	names({psa("enforce"): "privileged"}) == {"enforce": "baseline:latest", "warn": "restricted:latest", "audit": "restricted:latest"} with data.portcullis.config.podSecurity.labelFloor as "baseline"
	names({psa("enforce"): "restricted"}) == {"enforce": "restricted:latest", "warn": "restricted:latest", "audit": "restricted:latest"} with data.portcullis.config.podSecurity.labelFloor as "baseline"
	# The floor binds labels, not the operator's own data.
	names({}) == {"enforce": "privileged:latest", "warn": "restricted:latest", "audit": "restricted:latest"} with data.portcullis.config.podSecurity as {"labelFloor": "baseline", "enforce": "privileged"}
}

test_namespace_unknown if {
	inp := object.union(review(baseline_pod, {}), {"context": {"namespace": null}})
	{mode: lv.name | some mode, lv in podsecurity.policy} == {"enforce": "baseline:latest", "warn": "restricted:latest", "audit": "restricted:latest"} with input as inp
}

test_shipped_defaults_match_the_rego_defaults if {
	shipped := data.portcullis.config.podSecurity
	{k: shipped[k] | some k, _ in podsecurity.shipped} == podsecurity.shipped
	shipped.namespaces == []
	shipped.labelFloor == podsecurity.label_floor
}
