# Pod Security settings from operators' data.portcullis.config.podSecurity. Each has a default equal to the
# shipped config/data.json, so data that leaves the section out keeps baseline enforced and restricted warned.
#   enforce|warn|audit (+ -version)  the level (privileged, baseline, restricted) and version (latest, v1.N)
#                                    of a namespace without the matching pod-security.kubernetes.io label
#   namespaces                       [{names: [exact or glob], enforce: ..., ...}], the first entry naming the
#                                    namespace overrides the defaults above for it
#   labelFloor                       the lowest enforce level a namespace label may choose (default privileged:
#                                    the labels are obeyed as the PodSecurity admission plugin obeys them)
package portcullis.podsecurity

import rego.v1

import data.portcullis.admission

settings := s if {
	s := admission.config.podSecurity
	is_object(s)
} else := {}

shipped := {
	"enforce": "baseline",
	"enforce-version": "latest",
	"warn": "restricted",
	"warn-version": "latest",
	"audit": "restricted",
	"audit-version": "latest",
}

namespace_entries := e if {
	e := settings.namespaces
	is_array(e)
} else := []

# The first entry whose names match the request's namespace.
namespace_settings := [entry |
	some entry in namespace_entries
	is_object(entry)
	names := object.get(entry, "names", [])
	is_array(names)
	admission.matches_any(names, admission.request_namespace)
][0]

default namespace_settings_or_none := {}

namespace_settings_or_none := namespace_settings

# What a namespace without labels gets: the defaults, then its own entry.
unlabelled := {key: value |
	some key, default_value in shipped
	value := object.get(namespace_settings_or_none, key, object.get(settings, key, default_value))
}

label_floor := object.get(settings, "labelFloor", "privileged")

# Written by the injector on the Pods it injected, and checked by it where it runs (see genuine_init_container).
status_annotation := object.get(admission.mesh, "statusAnnotation", "sidecar.portcullis.io/status")
