# Durations in the seed's notation ("1h", "30m", "1h30m", "7d"), or plain seconds. OPA's
# time.parse_duration_ns is not implemented by the opa-wasm npm SDK, hence this parser.
package portcullis.authz

import rego.v1

unit_seconds := {"s": 1, "m": 60, "h": 3600, "d": 86400}

duration_seconds(d) := d if {
	is_number(d)
	d > 0
}

duration_seconds(d) := total if {
	is_string(d)
	regex.match(`^([0-9]+[smhd])+$`, d)
	total := sum([seconds |
		some m in regex.find_all_string_submatch_n(`([0-9]+)([smhd])`, d, -1)
		seconds := to_number(m[1]) * unit_seconds[m[2]]
	])
	total > 0
}
