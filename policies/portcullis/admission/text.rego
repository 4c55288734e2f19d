# Messages are built from the object's own values, and those can be of any JSON type. concat takes only
# strings: a number, null or list where a name belongs would make the whole violation undefined, and the
# object would be admitted. So every value from the object reaches a message through text or quote, which
# render any JSON value, and details take values with object.get, never a path that may be missing.
package portcullis.admission

import rego.v1

# Integers as digits, other scalars as JSON; lists and objects by kind only, because their JSON differs
# between OPA (which escapes <, > and &) and the WASM engine, and messages must not.
text(v) := v if is_string(v)

else := format_int(v, 10) if {
	is_number(v)
	v == floor(v)
	abs(v) < 9007199254740992
}

else := json.marshal(v) if is_number(v)

else := "true" if v == true

else := "false" if v == false

else := "null" if is_null(v)

else := "a list" if is_array(v)

else := "an object" if is_object(v)

else := "a set"

quote(v) := concat("", ["\"", v, "\""]) if is_string(v)

else := text(v)
