package portcullis.authz_test

import rego.v1

from_region(region, country) := with_mesh({"source": {"region": region, "country": country}})

seed_geo := orders_policies([{"name": "geo", "allowedRegions": ["us-west", "us-east", "eu-west"], "blockedRegions": ["*"]}])

test_seed_geo_means_only_these_regions if {
	decide(from_region("us-east", "US"), seed_geo).allowed
	decide(from_region("eu-west", "IE"), seed_geo).allowed
	d := decide(from_region("ap-south", "IN"), seed_geo)
	d.http_status == 403
	d.reason == "geo: source region ap-south/IN is not allowed for orders (policy geo)"
}

test_allowed_regions_alone_is_an_allow_list if {
	sec := orders_policies([{"name": "geo", "allowedRegions": ["eu-west"]}])
	decide(from_region("eu-west", "FR"), sec).allowed
	not decide(from_region("us-east", "US"), sec).allowed
}

test_allowed_by_country_code if {
	sec := orders_policies([{"name": "geo", "allowedRegions": ["DE", "FR"], "blockedRegions": ["*"]}])
	decide(from_region("eu-central", "DE"), sec).allowed
	not decide(from_region("eu-central", "PL"), sec).allowed
}

test_specific_block_beats_allow if {
	sec := orders_policies([{"name": "geo", "allowedRegions": ["*"], "blockedRegions": ["RU"]}])
	decide(from_region("eu-west", "FR"), sec).allowed
	decide(from_region("eu-east", "RU"), sec).reason == "geo: source region RU is blocked for orders (policy geo)"
	sec2 := orders_policies([{"name": "geo", "allowedRegions": ["eu-west"], "blockedRegions": ["eu-west"]}])
	not decide(from_region("eu-west", "IE"), sec2).allowed
}

test_block_list_alone if {
	sec := orders_policies([{"name": "geo", "blockedRegions": ["ap-east", "KP"]}])
	decide(from_region("us-west", "US"), sec).allowed
	not decide(from_region("ap-east", "HK"), sec).allowed
	not decide(from_region("ap-northeast", "KP"), sec).allowed
}

test_blocked_star_alone_blocks_everyone_external if {
	sec := orders_policies([{"name": "geo", "blockedRegions": ["*"]}])
	not decide(from_region("us-west", "US"), sec).allowed
	decide(from_region("us-west", "internal"), sec).allowed
}

test_unknown_origin if {
	unknown := with_mesh({"source": {"region": null, "country": null}})
	decide(unknown, seed_geo).reason == "geo: source region unknown is not allowed for orders (policy geo)"
	decide(unknown, orders_policies([{"name": "geo", "blockedRegions": ["RU"]}])).allowed
	no_geo := object.remove(request, ["mesh"])
	decide(no_geo, seed_geo).reason == "geo: source region unknown is not allowed for orders (policy geo)"
}

test_internal_sources_not_restricted_by_default if {
	decide(from_region("ap-south", "internal"), seed_geo).allowed
	decide(from_region("", "internal"), seed_geo).allowed
}

test_internal_sources_restricted_when_named if {
	blocked := orders_policies([{"name": "geo", "blockedRegions": ["internal"]}])
	decide(from_region("us-west", "internal"), blocked).reason == "geo: source region internal is blocked for orders (policy geo)"
	decide(from_region("us-west", "US"), blocked).allowed
	allowed := orders_policies([{"name": "geo", "allowedRegions": ["internal", "us-west"], "blockedRegions": ["*"]}])
	decide(from_region("ap-south", "internal"), allowed).allowed
	decide(from_region("us-west", "US"), allowed).allowed
	not decide(from_region("eu-west", "FR"), allowed).allowed
}

test_geo_checked_after_authentication if {
	sec := orders_policies([
		{"name": "authn", "jwtValidation": true},
		{"name": "geo", "allowedRegions": ["us-west"]},
	])
	decide(from_region("eu-west", "FR"), sec).http_status == 401
}

test_empty_lists_restrict_nothing if {
	decide(from_region("eu-west", "FR"), orders_policies([{"name": "geo", "allowedRegions": [], "blockedRegions": []}])).allowed
}
