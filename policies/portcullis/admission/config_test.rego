package portcullis.admission_test

import rego.v1

import data.portcullis.admission

test_shipped_data_is_complete if {
	c := data.portcullis.config
	object.keys(c) == {"cluster", "enforcement", "exemptions", "podSecurity", "allowlists", "requiredPodLabels", "mesh", "mutations"}
	c.mesh.proxy.containerName == "portcullis-proxy"
	c.mesh.init.containerName == "portcullis-init"
	c.mesh.injectionLabel == "portcullis.io/injection"
	every e in c.enforcement {
		e in {"deny", "warn", "dryrun"}
	}
}

test_rego_defaults_match_shipped_data if {
	c := data.portcullis.config
	defaults := {
		"injectionLabel": admission.injection_label,
		"podInjectionLabel": admission.pod_injection_label,
		"rootNamespace": admission.root_namespace,
		"inMeshHostSuffixes": admission.in_mesh_host_suffixes,
		"proxy": {"containerName": admission.proxy_container_name, "imageRepository": admission.proxy_image_repository, "uid": admission.proxy_uid, "gid": admission.proxy_gid},
		"init": {"containerName": admission.init_container_name, "imageRepository": admission.init_image_repository, "capabilities": admission.init_capabilities},
		"defaultDenyPolicy": {"name": admission.default_deny_policy_name, "deletableBy": admission.default_deny_deleters},
		"meshWidePeerAuthentication": {"deletableBy": admission.mesh_wide_peer_authentication_deleters},
		"allowlists": {
			"capabilities": admission.allowed_capabilities, "imageRegistries": admission.allowed_image_registries, "jwtIssuers": admission.allowed_jwt_issuers,
			"excludedInboundPorts": admission.allowed_excluded_inbound_ports,
			"excludedOutboundPorts": admission.allowed_excluded_outbound_ports,
			"excludedOutboundIPRanges": admission.allowed_excluded_outbound_ip_ranges,
			"proxyExtensions": admission.allowed_proxy_extensions,
		},
		"requiredPodLabels": admission.required_pod_labels,
	} with data.portcullis.config as {}
	defaults == {
		"injectionLabel": c.mesh.injectionLabel,
		"podInjectionLabel": c.mesh.podInjectionLabel,
		"rootNamespace": c.mesh.rootNamespace,
		"inMeshHostSuffixes": c.mesh.inMeshHostSuffixes,
		"proxy": c.mesh.proxy,
		"init": c.mesh.init,
		"defaultDenyPolicy": c.mesh.defaultDenyPolicy,
		"meshWidePeerAuthentication": c.mesh.meshWidePeerAuthentication,
		"allowlists": c.allowlists,
		"requiredPodLabels": c.requiredPodLabels,
	}
}

test_partial_config_keeps_rules_on if {
	only(create_in_mesh(pod), "sidecar-required") with data.portcullis.config as {"mesh": {}}
	only(create(image_pod("nginx:1")), "image-registry-allowlist") with data.portcullis.config as {"allowlists": {"capabilities": []}}
}
