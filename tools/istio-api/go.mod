// Not a tool: Istio's API definitions (CRDs and protos) at the release whose schemas Portcullis
// validates Istio objects against. scripts/istio-schema.mjs reads them from the module proxy and writes
// policies/portcullis/istio/data.json; nothing of the module is committed but this pin.
module portcullis/tools/istio-api

go 1.26.0

require istio.io/api v1.32.0
