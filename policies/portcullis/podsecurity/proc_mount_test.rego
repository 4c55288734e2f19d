package portcullis.podsecurity_test

import rego.v1

test_proc_mount if {
	# At restricted procMount_restricted replaces procMount.
	every row in container_rows("procMount", [["Unmasked", "Unmasked", null], ["another spelling", "unmasked", null], ["a number", 1, null]]) {
		[_, pod, level, _] := row
		refused(pod, level) == {"baseline": {"procMount"}, "restricted": {"procMount_restricted"}}[level]
	}
	every row in container_rows("procMount", [["Default", "Default", null], ["null", null, null]]) {
		[_, pod, level, _] := row
		refused(pod, level) == set()
	}
}

# From 1.35 a Pod in its own user namespace may unmask /proc at baseline, not at restricted, where
# procMount_restricted replaces procMount.
test_proc_mount_user_namespaces if {
	pod := with_sc(json.patch(baseline_pod, [{"op": "add", "path": "/spec/hostUsers", "value": false}]), "containers", 0, {"procMount": "Unmasked"})
	refused_at(pod, "baseline", "v1.34") == {"procMount"}
	refused_at(pod, "baseline", "v1.35") == set()
	refused(pod, "baseline") == set()
	host_users := with_sc(json.patch(restricted_pod, [{"op": "add", "path": "/spec/hostUsers", "value": false}]), "containers", 0, {"procMount": "Unmasked"})
	refused(host_users, "restricted") == {"procMount_restricted"}
	refused_at(host_users, "restricted", "v1.34") == {"procMount"}
	not_false := with_sc(json.patch(baseline_pod, [{"op": "add", "path": "/spec/hostUsers", "value": "false"}]), "containers", 0, {"procMount": "Unmasked"})
	refused(not_false, "baseline") == {"procMount"}
}

test_proc_mount_message if {
	pod := with_sc(baseline_pod, "initContainers", 0, {"procMount": "Unmasked"})
	messages_of(pod, "baseline") == {"container \"init\" sets spec.initContainers[0].securityContext.procMount to \"Unmasked\": remove it or set it to Default"}
}
