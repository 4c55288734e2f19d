# hostPathVolumes (baseline): hostPath volumes give the Pod the node's files ("/", the container runtime's
# socket, the kubelet's credentials). Field: spec.volumes[*].hostPath. Allowed: absent.
package portcullis.podsecurity

import rego.v1

volumes_field := concat(".", [spec_field, "volumes"])

# [field, volume] of every volume.
volumes := [[concat("", [volumes_field, "[", format_int(i, 10), "]"]), v] | is_array(spec.volumes); some i, v in spec.volumes]

volume_subject(v) := concat(" ", ["volume", show(object.get(v, "name", null))]) if is_object(v)

volume_subject(v) := concat(" ", ["volume", show(v)]) if not is_object(v)

host_path_volumes_v1_0 := array.concat(malformed_volumes, [f |
	some [base, v] in volumes
	some f in host_path_findings(v, base)
])

host_path_findings(v, base) := [finding(field, concat("", [volume_subject(v), " mounts a path of the node (", field, "): use another volume type"]))] if {
	v.hostPath != null
	field := concat(".", [base, "hostPath"])
}

# A list entry that is not an object, null included, is no volume Portcullis could judge.
host_path_findings(v, base) := [finding(base, sets(kind_name, base, v, "it must be a volume object"))] if not is_object(v)

malformed_volumes := [finding(volumes_field, sets(kind_name, volumes_field, spec.volumes, "it must be a list of volumes")) |
	spec.volumes != null
	not is_array(spec.volumes)
]
