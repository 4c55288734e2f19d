# Image reference parsing with the Docker defaults, so "nginx" and "docker.io/library/nginx" are
# the same repository when compared with allowlists and the configured proxy images.
package portcullis.admission

import rego.v1

image_digest(image) := d if {
	parts := split(image, "@")
	count(parts) > 1
	d := parts[1]
}

image_without_digest(image) := split(image, "@")[0]

# A colon in the last path segment starts the tag; one earlier belongs to a registry port.
image_tag(image) := t if {
	segments := split(image_without_digest(image), "/")
	last := segments[count(segments) - 1]
	contains(last, ":")
	t := split(last, ":")[1]
}

image_name(image) := n if {
	t := image_tag(image)
	n := trim_suffix(image_without_digest(image), concat("", [":", t]))
} else := image_without_digest(image)

registry_host(segment) if contains(segment, ".")

registry_host(segment) if contains(segment, ":")

registry_host("localhost")

image_repository(image) := repository(image_name(image))

# Rules compare each container's image with several repositories (allowlist, proxy, init container):
# parsed once per image of the Pod spec, not once per comparison. Any other image is parsed on the spot.
container_image_repository(image) := r if {
	r := pod_image_repositories[image]
} else := image_repository(image)

pod_image_repositories := {image: image_repository(image) |
	some list in container_lists
	some c in object.get(pod_spec, list, [])
	image := c.image
	is_string(image)
}

docker_hub := {"docker.io", "index.docker.io"}

repository(name) := concat("/", ["docker.io", docker_hub_path(name)]) if not contains(name, "/")

repository(name) := repository_after(name, split(name, "/")[0]) if contains(name, "/")

# A name with a slash, by its first segment.
repository_after(name, first) := concat("/", ["docker.io", name]) if not registry_host(first)

repository_after(name, first) := concat("/", ["docker.io", docker_hub_path(substring(name, count(first) + 1, -1))]) if {
	first in docker_hub
}

repository_after(name, first) := name if {
	registry_host(first)
	not first in docker_hub
}

# Official Docker Hub images live under library/.
docker_hub_path(path) := concat("/", ["library", path]) if not contains(path, "/")

docker_hub_path(path) := path if contains(path, "/")

# An allowlist entry is a registry host optionally followed by a path prefix; it never matches a
# longer host ("registry.example.com" does not allow "registry.example.com.evil.io/x").
repository_allowed(repo, entry) if repo == trim_suffix(entry, "/")

repository_allowed(repo, entry) if startswith(repo, concat("", [trim_suffix(entry, "/"), "/"]))
