# appArmorProfile (baseline): the runtime's default AppArmor profile may be replaced by a profile of the
# node, but never turned off.
# Fields: securityContext.appArmorProfile.type of the Pod and of every container. Allowed: no profile,
# RuntimeDefault, Localhost (a profile without a type is not allowed).
# Annotations: metadata.annotations["container.apparmor.security.beta.kubernetes.io/*"]. Allowed: absent,
# "", "runtime/default", "localhost/<profile>".
package portcullis.podsecurity

import rego.v1

app_armor_annotation_prefix := "container.apparmor.security.beta.kubernetes.io/"

app_armor_types := {"RuntimeDefault", "Localhost"}

app_armor_profile_v1_0 := array.concat(array.concat(malformed_findings(malformed_security_contexts), app_armor_fields), app_armor_annotations)

app_armor_fields := [f |
	some [obj, base, c] in security_context_holders
	some [field, value] in bad_profile_type(obj.securityContext.appArmorProfile, base, "appArmorProfile", app_armor_types)
	f := holder_finding(c, field, sets(holder_name(c), field, value, "use RuntimeDefault or Localhost"))
]

app_armor_annotations := [f |
	some key, value in annotations
	startswith(key, app_armor_annotation_prefix)
	not app_armor_annotation_allowed(value)
	field := annotation_field(key)
	f := finding(field, sets(kind_name, field, value, "use runtime/default or localhost/<profile>"))
]

app_armor_annotation_allowed("")

app_armor_annotation_allowed("runtime/default")

app_armor_annotation_allowed(v) if {
	is_string(v)
	startswith(v, "localhost/")
}

# [[field, value]] when a securityContext's profile (seccompProfile, appArmorProfile) is not an object, or its
# type is not one of types (a profile without a type has none).
bad_profile_type(profile, base, key, _) := [[concat("", [base, ".securityContext.", key]), profile]] if malformed(profile)

bad_profile_type(profile, base, key, types) := [[concat("", [base, ".securityContext.", key, ".type"]), type]] if {
	is_object(profile)
	type := object.get(profile, "type", null)
	not type in types
}
