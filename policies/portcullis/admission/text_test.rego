package portcullis.admission_test

import rego.v1

import data.portcullis.admission

test_any_json_value_renders if {
	admission.text("x") == "x"
	admission.text(8080) == "8080"
	admission.text(-1) == "-1"
	admission.text(2.5) == "a number with a fraction"
	admission.text(1e300) == "a very large number"
	admission.text(true) == "true"
	admission.text(false) == "false"
	admission.text(null) == "null"
	admission.text([1]) == "a list"
	admission.text({"a": 1}) == "an object"
	admission.quote("x") == "\"x\""
	admission.quote(7) == "7"
	admission.quote(null) == "null"
}
