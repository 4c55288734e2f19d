# The Pod Security Standards (package portcullis.podsecurity), as rules pod-security:<check id> whose
# enforcement comes from the namespace's level per mode rather than from a fixed default.
package portcullis.admission

import rego.v1

import data.portcullis.podsecurity

violation contains v if some v in podsecurity.violations
