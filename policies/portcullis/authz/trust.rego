# Multi-cluster trust: which trust domains may call us, and how far they are trusted.
# data.portcullis.trust = {clusters: [{name, trustDomain}], trust: [{cluster1, cluster2, trustLevel}]}
# with the trust pairs of the seed's `mesh.security.trust`, read in both directions.
package portcullis.authz

import rego.v1

trust := data.portcullis.trust

own_cluster := v if {
	v := nonempty(input.mesh.cluster.name)
} else := nonempty(data.portcullis.config.cluster.name)

own_trust_domain := v if {
	v := nonempty(input.mesh.cluster.trustDomain)
} else := v if {
	some c in trust.clusters
	c.name == own_cluster
	v := nonempty(c.trustDomain)
} else := nonempty(data.portcullis.config.cluster.trustDomain)

# "none": no verified identity (left to mTLS mode and rules); "own": our trust domain; "full" or
# "limited": a federated cluster's; "untrusted": anyone else, denied outright.
trust_level := "none" if {
	not source_trust_domain
} else := "own" if {
	source_trust_domain == own_trust_domain
} else := "limited" if {
	"limited" in federated_levels
} else := "full" if {
	"full" in federated_levels
} else := "untrusted"

# Several clusters may share a trust domain; an identity cannot tell them apart, so the weakest
# trust among them is the one applied (limited is checked before full above).
federated_levels contains t.trustLevel if {
	some t in trust.trust
	peer := peer_of(t, own_cluster)
	some c in trust.clusters
	c.name == peer
	c.trustDomain == source_trust_domain
}

peer_of(t, me) := t.cluster2 if t.cluster1 == me

peer_of(t, me) := t.cluster1 if t.cluster2 == me
