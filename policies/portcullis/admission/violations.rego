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

# Not sorted here: `sort` in the WebAssembly engine is an insertion sort, quadratic in the number
# of violations (a Pod with 16,000 `capabilities.add` entries took 10 s), so the service orders them
# by rule then message (n log n). OPA itself iterates the set in sorted order.
violations := [entry |
	some v in violation
	not exempt(v.rule)
	entry := {
		"rule": v.rule,
		"msg": v.msg,
		"enforcement": violation_enforcement(v),
		"details": v.details,
	}
]
