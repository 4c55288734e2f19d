package portcullis.podsecurity_test

import rego.v1

with_volumes(pod, volumes) := json.patch(pod, [{"op": "add", "path": "/spec/volumes", "value": volumes}])

test_host_path_volumes if {
	failing_rows([
		["the node's root", with_volumes(baseline_pod, [{"name": "root", "hostPath": {"path": "/"}}]), "baseline", {"hostPathVolumes"}],
		["the runtime's socket", with_volumes(baseline_pod, [{"name": "sock", "hostPath": {"path": "/run/containerd/containerd.sock", "type": "Socket"}}]), "baseline", {"hostPathVolumes"}],
		["an empty hostPath", with_volumes(baseline_pod, [{"name": "h", "hostPath": {}}]), "baseline", {"hostPathVolumes"}],
		["a hostPath of the wrong type", with_volumes(baseline_pod, [{"name": "h", "hostPath": "/"}]), "baseline", {"hostPathVolumes"}],
		["null", with_volumes(baseline_pod, [{"name": "e", "emptyDir": {}, "hostPath": null}]), "baseline", set()],
		["other volumes", with_volumes(baseline_pod, [{"name": "e", "emptyDir": {}}, {"name": "n", "nfs": {"server": "nfs", "path": "/"}}]), "baseline", set()],
		["volumes not a list", with_volumes(baseline_pod, {"name": "root", "hostPath": {"path": "/"}}), "baseline", {"hostPathVolumes"}],
		["a volume that is not an object", with_volumes(baseline_pod, ["root"]), "baseline", {"hostPathVolumes"}],
		# A null entry is no "not set": the API server would make it a volume without a name or a source.
		["a volume that is null", with_volumes(baseline_pod, [null]), "baseline", {"hostPathVolumes"}],
		["privileged level", with_volumes(baseline_pod, [{"name": "root", "hostPath": {"path": "/"}}]), "privileged", set()],
		# restrictedVolumes replaces the check at restricted.
		["restricted", with_volumes(restricted_pod, [{"name": "root", "hostPath": {"path": "/"}}]), "restricted", {"restrictedVolumes"}],
	]) == []
}

test_host_path_volumes_message if {
	pod := with_volumes(baseline_pod, [{"name": "e", "emptyDir": {}}, {"name": "root", "hostPath": {"path": "/"}}])
	messages_of(pod, "baseline") == {"volume \"root\" mounts a path of the node (spec.volumes[1].hostPath): use another volume type"}
	fields_by(deployment(pod), enforcing("baseline")) == {"hostPathVolumes": {"spec.template.spec.volumes[1].hostPath"}}
	fields_by(cronjob(pod), enforcing("baseline")) == {"hostPathVolumes": {"spec.jobTemplate.spec.template.spec.volumes[1].hostPath"}}
}

test_host_path_volumes_entry_message if {
	messages_of(with_volumes(baseline_pod, [null]), "baseline") == {"Pod sets spec.volumes[0] to null: it must be a volume object"}
}
