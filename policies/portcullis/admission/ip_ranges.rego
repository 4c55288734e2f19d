# Whether a list of addresses and CIDR ranges covers every address of IPv4 or of IPv6, the way Istio reads
# them (a bare address is a /32 or /128, the bits after the prefix length are ignored). 0.0.0.0/0 does
# alone; 0.0.0.0/1 + 128.0.0.0/1 do together, and so can any split of the space.
#
# Each range becomes the string of its prefix bits ("4:0", "4:1" for the two /1 halves). Two ranges are
# either nested or apart, so after dropping the ranges inside another one, the rest cover the whole space
# exactly when every bit string they branch from has both of its continuations: for each kept range and
# each of its prefixes, the sibling branch must start some kept range. A missing sibling is an address
# range no entry reaches. The WASM engine has neither net.cidr_merge nor big integers, hence bits.
package portcullis.admission

import rego.v1

ip_ranges_cover_everything(values) if {
	some family in ["4", "6"]
	ip_family_may_be_covered(family, values)
	ip_family_covered(family, {key |
		some value in values
		key := ip_range_key(value)
		startswith(key, concat("", [family, ":"]))
	})
}

# Parsing addresses is the costly part, and most lists are far too small to cover a family: ranges of
# prefix length p hold 2^-p of the space, so unless these shares add up to the whole (for IPv6 a range
# longer than /62 counts as a /62: an overestimate), they cannot cover it. Shares are fractions, so that
# thousands of ranges add up without overflowing the WASM engine's integers.
ip_family_may_be_covered(family, values) if {
	unit := ip_family_sizes[family][1]
	whole := bits.lsh(1, unit)
	sum([share |
		some value in values
		is_string(value)
		[f, length] := ip_prefix(value)
		f == family
		share := bits.lsh(1, max([0, unit - length])) / whole
	]) >= 1
}

ip_family_sizes := {"4": [32, 32], "6": [128, 62]}

# [family, prefix length] as written, before the address is parsed.
ip_prefix(value) := [ip_family_of(parts[0]), to_number(parts[1])] if {
	parts := split(value, "/")
	count(parts) == 2
	regex.match(`^[0-9]{1,3}$`, parts[1])
} else := [family, ip_family_sizes[family][0]] if {
	not contains(value, "/")
	family := ip_family_of(value)
}

ip_family_of(address) := "6" if contains(address, ":")

else := "4"

ip_family_covered(family, keys) if concat("", [family, ":"]) in keys

ip_family_covered(_, keys) if {
	top := {k | some k in keys; not ip_key_nested(k, keys)}
	count(top) > 1
	branches := {substring(k, 0, n) | some k in top; some n in numbers.range(2, count(k))}
	every k in top {
		every n in ip_prefix_lengths(k) {
			concat("", [substring(k, 0, n), ip_other_bit[substring(k, n, 1)]]) in branches
		}
	}
}

ip_other_bit := {"0": "1", "1": "0"}

# Lengths of the proper prefixes of a key, family and colon included ("4:" is the whole family).
ip_prefix_lengths(k) := [n | some n in numbers.range(2, count(k)); n < count(k)]

# A key whose shorter prefix is itself a key lies inside that range.
ip_key_nested(k, keys) if {
	some n in ip_prefix_lengths(k)
	substring(k, 0, n) in keys
}

ip_range_key(value) := concat("", [family, ":", substring(bits, 0, length)]) if {
	is_string(value)
	parts := split(value, "/")
	[family, bits] := ip_bits(parts[0])
	length := ip_prefix_length(parts, count(bits))
}

ip_prefix_length(parts, max_length) := max_length if count(parts) == 1

ip_prefix_length(parts, max_length) := n if {
	count(parts) == 2
	regex.match(`^[0-9]{1,3}$`, parts[1])
	n := to_number(parts[1])
	n <= max_length
}

ip_bits(address) := ["4", bits] if {
	not contains(address, ":")
	bits := ipv4_bits(address)
	count(bits) == 32
}

ip_bits(address) := ["6", bits] if {
	contains(address, ":")
	not contains(address, "%")
	bits := concat("", [ipv6_group_bits(g) | some g in ipv6_groups(address)])
	count(bits) == 128
}

ipv4_bits(address) := concat("", [ip_binary(to_number(octet), 8) | some octet in octets]) if {
	octets := split(address, ".")
	count(octets) == 4
	every octet in octets {
		regex.match(`^[0-9]{1,3}$`, octet)
		to_number(octet) <= 255
	}
}

ip_binary(n, width) := concat("", [substring("00000000", 0, width - count(b)), b]) if {
	b := format_int(n, 2)
}

# Eight groups of up to four hex digits; "::" stands for the zero groups left out, and the last 32 bits may
# be written as an IPv4 address (::ffff:192.0.2.1). A zone (fe80::1%eth0) makes no range.
ipv6_groups(address) := ipv6_side(address) if not contains(address, "::")

ipv6_groups(address) := array.concat(array.concat(left, zeros), right) if {
	sides := split(address, "::")
	count(sides) == 2
	left := ipv6_side(sides[0])
	right := ipv6_side(sides[1])
	missing := 8 - count(left) - count(right)
	missing >= 1
	zeros := [z | some _ in numbers.range(1, missing); z := "0"]
}

ipv6_side("") := []

ipv6_side(side) := array.concat(array.slice(parts, 0, count(parts) - 1), ipv6_tail(parts[count(parts) - 1])) if {
	side != ""
	parts := split(side, ":")
}

# An embedded IPv4 address fills the last two groups.
ipv6_tail(last) := [substring(hex, 0, 4), substring(hex, 4, 4)] if {
	contains(last, ".")
	bits := ipv4_bits(last)
	hex := concat("", [ipv6_hex_digit[substring(bits, i * 4, 4)] | some i in numbers.range(0, 7)])
}

ipv6_tail(last) := [last] if not contains(last, ".")

ipv6_group_bits(group) := concat("", [ipv6_digit_bits[lower(substring(padded, i, 1))] | some i in numbers.range(0, 3)]) if {
	regex.match(`^[0-9a-fA-F]{1,4}$`, group)
	padded := concat("", [substring("000", 0, 4 - count(group)), group])
}

ipv6_digit_bits := {
	"0": "0000", "1": "0001", "2": "0010", "3": "0011", "4": "0100", "5": "0101", "6": "0110", "7": "0111",
	"8": "1000", "9": "1001", "a": "1010", "b": "1011", "c": "1100", "d": "1101", "e": "1110", "f": "1111",
}

ipv6_hex_digit := {bits: digit | some digit, bits in ipv6_digit_bits}
