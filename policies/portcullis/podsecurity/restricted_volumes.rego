# restrictedVolumes (restricted): volumes may only be of the kinds that give no access to the node or to
# storage outside the Pod's own claims. Replaces hostPathVolumes at restricted.
# Field: spec.volumes[*]. Allowed: a volume whose one source is configMap, csi, downwardAPI, emptyDir,
# ephemeral, image, persistentVolumeClaim, projected or secret.
package portcullis.podsecurity

import rego.v1

allowed_volume_sources := {
	"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
	"persistentVolumeClaim", "projected", "secret",
}

restricted_volumes_v1_0 := array.concat(malformed_volumes, [f |
	some [field, v] in volumes
	not allowed_volume(v)
	f := finding(field, concat("", [
		volume_subject(v), " (", field, ") is of type ", show(volume_type(v)),
		": only ", concat(", ", sort(allowed_volume_sources)), " volumes are allowed",
	]))
])

# Every source an allowed one and holding an object: a second, forbidden source beside an allowed one
# is not hidden by it.
allowed_volume(v) if {
	is_object(v)
	sources := {k | some k, x in v; k != "name"; x != null}
	count(sources) > 0
	every k in sources {
		k in allowed_volume_sources
		is_object(v[k])
	}
}

volume_type(v) := t if {
	is_object(v)
	t := sort([k | some k, x in v; k != "name"; x != null; not k in allowed_volume_sources])[0]
} else := "unknown"
