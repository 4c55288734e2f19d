// Bundles the authz tests run: the opa-envoy-plugin style fixture policy and a policy exercising every result field.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBundle } from '../helpers/bundles.js';
import { FIXTURES } from '../helpers/paths.js';

/** Answers chosen by the first path segment, so one bundle covers every shape of result. */
export const RESULTS_POLICY = `package results

import rego.v1

decision := {
	"allowed": true,
	"headers": {"x-from-policy": "1"},
	"response_headers_to_add": {"x-served-by": "portcullis"},
	"request_headers_to_remove": ["cookie"],
	"dynamic_metadata": {"tier": "gold"},
	"reason": "limited route",
	"rate_limit": {"key": concat(":", ["limited", input.mesh.source.ip]), "requests_per_minute": 60, "burst": 2},
} if input.parsed_path[0] == "limited"

decision := {"allowed": true, "reason": "open route"} if input.parsed_path[0] == "open"

decision := {"allowed": "maybe"} if input.parsed_path[0] == "broken"

decision := {
	"allowed": false,
	"http_status": 402,
	"headers": {"x-why": "unpaid", "content-type": "text/plain"},
	"body": "pay first",
	"reason": "payment route",
} if input.parsed_path[0] == "payment"

# 418 is not among the statuses Envoy's StatusCode can carry.
decision := {"allowed": false, "http_status": 418} if input.parsed_path[0] == "teapot"

decision := {"allowed": input.mesh.source.country != "internal", "reason": concat(" ", ["from", object.get(input.mesh.source, "country", "nowhere")])} if input.parsed_path[0] == "geo"

# Echoes the facts back in the reason, for tests that look at input.mesh through the audit log.
decision := {"allowed": true, "reason": "echo"} if input.parsed_path[0] == "echo"
`;

export async function testBundle(dir: string): Promise<string> {
  const envoy = await readFile(join(FIXTURES, 'envoy-policy', 'policy.rego'), 'utf8');
  const archive = await buildBundle({ 'envoy/policy.rego': envoy, 'results/policy.rego': RESULTS_POLICY }, { entrypoints: ['envoy/authz/result', 'envoy/authz/allow', 'results/decision'] });
  const path = join(dir, 'authz-test-bundle.tar.gz');
  await writeFile(path, archive);
  return path;
}
