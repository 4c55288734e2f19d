# Rule 4: app and version name a workload in mesh telemetry and in authorization policies.
package portcullis.admission

import rego.v1

violation contains {
	"rule": "required-labels",
	"msg": concat("", [
		kind_name, " is missing label ", quote(label), ": add it under ", field,
		" (e.g. ", label, ": ", label_example(label), ")",
	]),
	"details": {"label": label, "field": field},
} if {
	pod_labels_changed
	some label in required_pod_labels
	not label_set(label)
	field := concat("", [template_prefix, "metadata.labels"])
}

label_set(label) if pod_labels[label] != ""

label_example("version") := "v1"

label_example(label) := "my-service" if label != "version"
