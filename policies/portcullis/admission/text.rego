# Messages are built from the object's own values, and those can be of any JSON type. concat takes only
# strings: a number, null or list where a name belongs would make the whole violation undefined, and the
# object would be admitted. So every value from the object reaches a message through text or quote, which
# render any JSON value, and details take values with object.get, never a path that may be missing.
package portcullis.admission

import rego.v1

# Integers as digits; other numbers, lists and objects by kind only, because OPA and the WASM engine write
# them differently (2.50 or 2.5, escaped < > & or not), and messages must be the same in both.
text(v) := v if is_string(v)

else := "a very large number" if {
	is_number(v)
	abs(v) >= 9007199254740992
}

else := format_int(v, 10) if {
	is_number(v)
	v == floor(v)
}

else := "a number with a fraction" if is_number(v)

else := "true" if v == true

else := "false" if v == false

else := "null" if is_null(v)

else := "a list" if is_array(v)

else := "an object" if is_object(v)

else := "a set"

quote(v) := concat("", ["\"", v, "\""]) if is_string(v)

else := text(v)
