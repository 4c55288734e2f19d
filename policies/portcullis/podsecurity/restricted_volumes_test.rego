package portcullis.podsecurity_test

import rego.v1

test_restricted_volumes if {
	allowed := [
		{"name": "c", "configMap": {"name": "c"}},
		{"name": "s", "csi": {"driver": "d"}},
		{"name": "d", "downwardAPI": {}},
		{"name": "e", "emptyDir": {}},
		{"name": "eph", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
		{"name": "i", "image": {"reference": "registry.example.com/data:1"}},
		{"name": "p", "persistentVolumeClaim": {"claimName": "p"}},
		{"name": "pr", "projected": {"sources": []}},
		{"name": "sec", "secret": {"secretName": "s"}},
	]
	refused(with_volumes(restricted_pod, allowed), "restricted") == set()
	forbidden := [
		"hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi", "glusterfs", "rbd",
		"flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
		"portworxVolume", "photonPersistentDisk", "scaleIO", "storageos", "someFutureVolume",
	]
	[source |
		some source in forbidden
		pod := with_volumes(restricted_pod, [{"name": "v", source: {}}])
		refused(pod, "restricted") != {"restrictedVolumes"}
	] == []
	[source |
		some source in forbidden
		source != "hostPath"
		refused(with_volumes(baseline_pod, [{"name": "v", source: {}}]), "baseline") != set()
	] == []
}

test_restricted_volumes_edges if {
	failing_rows([
		["a forbidden source beside an allowed one", with_volumes(restricted_pod, [{"name": "v", "emptyDir": {}, "nfs": {"server": "s", "path": "/"}}]), "restricted", {"restrictedVolumes"}],
		["no source", with_volumes(restricted_pod, [{"name": "v"}]), "restricted", {"restrictedVolumes"}],
		["a null source", with_volumes(restricted_pod, [{"name": "v", "emptyDir": null}]), "restricted", {"restrictedVolumes"}],
		["an allowed source of the wrong type", with_volumes(restricted_pod, [{"name": "v", "emptyDir": "yes"}]), "restricted", {"restrictedVolumes"}],
		["a null beside an allowed source", with_volumes(restricted_pod, [{"name": "v", "secret": {"secretName": "s"}, "nfs": null}]), "restricted", set()],
		["volumes not a list", with_volumes(restricted_pod, {"name": "v", "emptyDir": {}}), "restricted", {"restrictedVolumes"}],
	]) == []
}

test_restricted_volumes_message if {
	pod := with_volumes(restricted_pod, [{"name": "e", "emptyDir": {}}, {"name": "data", "nfs": {"server": "s", "path": "/"}}])
	messages_of(pod, "restricted") == {"volume \"data\" (spec.volumes[1]) is of type \"nfs\": only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected, secret volumes are allowed"}
}
