# Rule 3: the ServiceAccount is the workload's SPIFFE identity; the shared "default" account would
# give every workload of the namespace the same identity and defeat per-workload authorization.
package portcullis.admission

import rego.v1

violation contains {
	"rule": "no-default-service-account",
	"msg": concat("", [
		kind_name, " runs as the \"default\" ServiceAccount: create a ServiceAccount for this workload and set ",
		field, " to its name",
	]),
	"details": {"field": field, "serviceAccount": "default"},
} if {
	pod_spec_changed
	pod_service_account == "default"
	field := concat("", [template_prefix, "spec.serviceAccountName"])
}
