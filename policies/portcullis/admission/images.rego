# Rule 9: only images from registries the cluster trusts, pinned to something that cannot move
# under a running workload.
package portcullis.admission

import rego.v1

violation contains {
	"rule": "image-registry-allowlist",
	"msg": concat("", [
		"container ", container_label(c), " uses image ", quote(c.image), " from ", repo,
		", which is not an allowed registry: change ", field, " to an image from ",
		concat(", ", allowed_image_registries),
	]),
	"details": {"container": object.get(c, "name", null), "image": c.image, "field": field},
} if {
	some [list, i] in container_refs
	c := pod_spec[list][i]
	is_string(c.image)
	not image_prefix_allowed(c.image)
	repo := container_image_repository(c.image)
	not registry_allowed(repo)
	field := concat("", [container_field(list, i), ".image"])
}

# Fast path for the common case of an image written with its registry host: the raw reference
# already is the normalized repository, so a prefix test decides without parsing it.
image_prefix_allowed(image) if {
	some entry in allowed_image_registries
	startswith(image, concat("", [trim_suffix(entry, "/"), "/"]))
	registry_host(split(entry, "/")[0])
}

registry_allowed(repo) if {
	some entry in allowed_image_registries
	repository_allowed(repo, entry)
}

violation contains {
	"rule": "image-tag-pinned",
	"msg": concat("", [
		"container ", container_label(c), " uses image ", quote(c.image), problem, ": set ", field,
		" to a version tag or a digest (", image_name(c.image), ":1.2.3 or ", image_name(c.image), "@sha256:...)",
	]),
	"details": {"container": object.get(c, "name", null), "image": c.image, "field": field},
} if {
	some [list, i] in container_refs
	c := pod_spec[list][i]
	is_string(c.image)
	not image_digest(c.image)
	problem := tag_problem(c.image)
	field := concat("", [container_field(list, i), ".image"])
}

tag_problem(image) := " with the mutable tag latest" if lower(image_tag(image)) == "latest"

tag_problem(image) := " without a tag (that means latest)" if not image_tag(image)
