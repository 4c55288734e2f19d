# Entry point portcullis/admission/violations: every rule adds to `violation`; here exemptions drop
# entries and each one gets its enforcement.
package portcullis.admission

import rego.v1

enforcements := {"deny", "warn", "dryrun"}

# An unknown override value falls back to deny: a typo in data must not switch a rule off.
enforcement(rule) := e if {
	e := config.enforcement[rule]
	e in enforcements
} else := "deny"

# Pod Security rules carry their own enforcement, from the namespace's mode; data can still override it.
violation_enforcement(v) := e if {
	e := config.enforcement[v.rule]
	e in enforcements
} else := e if {
	e := v.enforcement
	e in enforcements
} else := "deny"

# Ordered by rule then message, so the same object always gets the same answer from OPA and from
# the WASM engine (whose set iteration order differs) and audit events stay comparable.
violations := [entry |
	some [_, _, entry] in sort([[v.rule, v.msg, {
		"rule": v.rule,
		"msg": v.msg,
		"enforcement": violation_enforcement(v),
		"details": v.details,
	}] |
		some v in violation
		not exempt(v.rule)
	])
]
