# hostPathVolumes (baseline): hostPath volumes give the Pod the node's files ("/", the container runtime's
# socket, the kubelet's credentials). Field: spec.volumes[*].hostPath. Allowed: absent.
package portcullis.podsecurity

import rego.v1

# [volume, field] of every volume; a volume that is not an object stands for itself.
volumes := [[v, field] |
	[list_field, list] := read(spec, ["volumes"], spec_field)
	some [field, v] in list_entries(list_field, list)
]

volume_subject(v) := concat(" ", ["volume", show(object.get(v, "name", null))]) if is_object(v)

volume_subject(v) := concat(" ", ["volume", show(v)]) if not is_object(v)

host_path_volumes_v1_0 := malformed_volumes | {f |
	some [v, base] in volumes
	[field, value] := host_path(v, base)
	value != null
	f := finding(field, concat("", [
		volume_subject(v), " mounts a path of the node (", field, "): use another volume type",
	]))
}

host_path(v, base) := read(v, ["hostPath"], base) if is_object(v)

host_path(v, base) := [base, v] if not is_object(v)

malformed_volumes := {f |
	[field, list] := read(spec, ["volumes"], spec_field)
	not_a_list(list)
	f := finding(field, sets(kind_name, field, list, "it must be a list of volumes"))
}
