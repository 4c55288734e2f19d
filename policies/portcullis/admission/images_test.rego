package portcullis.admission_test

import rego.v1

import data.portcullis.admission

image_pod(image) := pod_with_container({"image": image})

test_allowed_registry_with_tag_allowed if clean(create(image_pod("registry.example.com/team/app:1.0.0")))

test_digest_without_tag_allowed if {
	clean(create(image_pod("registry.example.com/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")))
}

test_latest_with_digest_allowed if clean(create(image_pod("registry.example.com/team/app:latest@sha256:0123")))

test_latest_tag_denied if {
	inp := create(image_pod("registry.example.com/team/app:latest"))
	only(inp, "image-tag-pinned")
	messages(inp, "image-tag-pinned") == {"container \"app\" uses image \"registry.example.com/team/app:latest\" with the mutable tag latest: set spec.containers[0].image to a version tag or a digest (registry.example.com/team/app:1.2.3 or registry.example.com/team/app@sha256:...)"}
}

test_untagged_image_denied if {
	inp := create(image_pod("registry.example.com/team/app"))
	only(inp, "image-tag-pinned")
	messages(inp, "image-tag-pinned") == {"container \"app\" uses image \"registry.example.com/team/app\" without a tag (that means latest): set spec.containers[0].image to a version tag or a digest (registry.example.com/team/app:1.2.3 or registry.example.com/team/app@sha256:...)"}
}

test_registry_port_is_not_a_tag if {
	inp := create(image_pod("registry.example.com:5000/team/app"))
	rules(inp) == {"image-tag-pinned", "image-registry-allowlist"}
}

test_docker_hub_image_denied if {
	inp := create(image_pod("nginx:1.27"))
	only(inp, "image-registry-allowlist")
	messages(inp, "image-registry-allowlist") == {"container \"app\" uses image \"nginx:1.27\" from docker.io/library/nginx, which is not an allowed registry: change spec.containers[0].image to an image from registry.example.com, ghcr.io/portcullis, docker.io/envoyproxy/envoy, docker.io/istio/proxyv2"}
}

test_lookalike_registry_host_denied if {
	only(create(image_pod("registry.example.com.evil.io/team/app:1.0")), "image-registry-allowlist")
}

test_proxy_registry_allowed if {
	clean(create(image_pod("ghcr.io/portcullis/portcullis:1.2.0")))
	clean(create(image_pod("envoyproxy/envoy:v1.40.0")))
	clean(create(image_pod("docker.io/istio/proxyv2:1.30.3")))

	# The sidecar's repositories, not their whole registry.
	only(create(image_pod("docker.io/istio/pilot:1.30.3")), "image-registry-allowlist")
	only(create(image_pod("docker.io/envoyproxy/envoy-contrib:v1.40.0")), "image-registry-allowlist")
}

test_other_ghcr_repository_denied if only(create(image_pod("ghcr.io/someone/app:1.0")), "image-registry-allowlist")

test_docker_hub_normalization if {
	allow := ["docker.io/library", "docker.io/bitnami"]
	clean(create(image_pod("nginx:1.27"))) with data.portcullis.config.allowlists.imageRegistries as allow
	clean(create(image_pod("docker.io/nginx:1.27"))) with data.portcullis.config.allowlists.imageRegistries as allow
	clean(create(image_pod("index.docker.io/library/nginx:1.27"))) with data.portcullis.config.allowlists.imageRegistries as allow
	clean(create(image_pod("bitnami/redis:7"))) with data.portcullis.config.allowlists.imageRegistries as allow
	only(create(image_pod("quay.io/bitnami/redis:7")), "image-registry-allowlist") with data.portcullis.config.allowlists.imageRegistries as allow
}

test_localhost_registry if {
	clean(create(image_pod("localhost:5000/app:1"))) with data.portcullis.config.allowlists.imageRegistries as ["localhost:5000/"]
	clean(create(image_pod("localhost/app:1"))) with data.portcullis.config.allowlists.imageRegistries as ["localhost"]
}

test_init_and_ephemeral_images_checked if {
	bad := object.union(app_container, {"name": "tools", "image": "busybox"})
	inp := create(pod_with({"initContainers": [bad], "ephemeralContainers": [bad]}))
	{v.details.field | some v in violations(inp)} == {"spec.initContainers[0].image", "spec.ephemeralContainers[0].image"}
	rules(inp) == {"image-tag-pinned", "image-registry-allowlist"}
}

test_image_parsing if {
	admission.image_repository("nginx") == "docker.io/library/nginx"
	admission.image_repository("nginx:1@sha256:ab") == "docker.io/library/nginx"
	admission.image_repository("team/app:1") == "docker.io/team/app"
	admission.image_repository("docker.io/app") == "docker.io/library/app"
	admission.image_repository("registry.example.com:5000/a/b:2") == "registry.example.com:5000/a/b"
	admission.image_tag("registry.example.com:5000/a/b:2") == "2"
	not admission.image_tag("registry.example.com:5000/a/b")
	admission.image_digest("a@sha256:1") == "sha256:1"
}

test_registry_entry_may_name_one_repository if {
	allow := ["ghcr.io/portcullis/proxy"]
	clean(create(image_pod("ghcr.io/portcullis/proxy:1.2.0"))) with data.portcullis.config.allowlists.imageRegistries as allow
	only(create(image_pod("ghcr.io/portcullis/proxy-init:1.2.0")), "image-registry-allowlist") with data.portcullis.config.allowlists.imageRegistries as allow
}
