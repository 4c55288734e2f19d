import { parseArgs } from 'node:util';
import type { Snapshot } from '../../policy/engine.js';
import type { Judge } from '../verdict.js';
import { evaluate } from './evaluate.js';
import { readManifests } from './manifests.js';
import { EvalNamespaces } from './namespaces.js';
import { json } from './output/json.js';
import { junit } from './output/junit.js';
import { sarif } from './output/sarif.js';
import { table } from './output/table.js';

export interface EvalPolicyOptions {
  config?: string;
  bundle?: string;
  data?: string;
}

/** Builds what eval decides with (src/server/eval.ts: the service's own configuration, bundles and injector). */
export type EvalPolicy = (options: EvalPolicyOptions) => Promise<{ snapshot: Snapshot; judge: Judge; close(): Promise<void> }>;

export interface EvalIo {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin(): Promise<string>;
  version: string;
}

export const EVAL_USAGE = `usage: portcullis eval [options] PATH... (files, directories, or - for standard input)

Judges each object as the admission webhooks would judge its CREATE (sidecar injection and mutation
policies, then the zero-trust rules). Exit code 1 when any object would be refused, 0 otherwise, 2 when
the input, the configuration or the bundle cannot be used.

  -o, --output FORMAT        table (default), json, sarif (code scanning), junit
      --config FILE          the service's configuration: its policy bundles, data, keys, injection, cluster
      --bundle PATH|URL      an OPA bundle (directory, .tar.gz, or http(s) URL) instead of the configured one
                             (default: the built-in bundle)
      --data FILE            operator data (YAML or JSON) merged over the bundle's, as policy.dataFile
  -n, --namespace NAME       namespace of objects that name none (default: default)
      --namespaces FILE      namespace facts: namespaces: [{name, labels, annotations}]
  -l, --label [NS:]KEY=VAL   a namespace label (NS defaults to --namespace), e.g. -l portcullis.io/injection=enabled
      --annotation [NS:]K=V  a namespace annotation
Namespace objects in the input count too (applying them sets their labels).`;

const FORMATS = ['table', 'json', 'sarif', 'junit'] as const;

/** `portcullis eval`: returns the exit code. */
export async function runEval(args: string[], policy: EvalPolicy, io: EvalIo): Promise<number> {
  let values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        output: { type: 'string', short: 'o', default: 'table' },
        config: { type: 'string' },
        bundle: { type: 'string' },
        data: { type: 'string' },
        namespace: { type: 'string', short: 'n', default: 'default' },
        namespaces: { type: 'string' },
        label: { type: 'string', short: 'l', multiple: true, default: [] },
        annotation: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    io.stderr(`portcullis eval: ${(err as Error).message}\n\n${EVAL_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(`${EVAL_USAGE}\n`);
    return 0;
  }
  const format = values.output as (typeof FORMATS)[number];
  if (!FORMATS.includes(format)) return usage(io, `--output must be one of ${FORMATS.join(', ')}`);
  if (positionals.length === 0) return usage(io, 'name at least one file, directory, or - (standard input)');

  let prepared: Awaited<ReturnType<EvalPolicy>> | undefined;
  try {
    const manifests = await readManifests(positionals, io.stdin);
    const namespaces = new EvalNamespaces();
    if (values.namespaces) await namespaces.loadFile(values.namespaces);
    namespaces.addObjects(manifests);
    for (const l of values.label) namespaces.set('labels', l, values.namespace);
    for (const a of values.annotation) namespaces.set('annotations', a, values.namespace);
    prepared = await policy({ ...(values.config ? { config: values.config } : {}), ...(values.bundle ? { bundle: values.bundle } : {}), ...(values.data ? { data: values.data } : {}) });
    const { snapshot, judge } = prepared;
    const results = evaluate(manifests, judge, snapshot, namespaces, values.namespace);
    const bundles = { ...snapshot.revisions };
    io.stdout(format === 'json' ? json(results, bundles) : format === 'sarif' ? sarif(results, bundles, io.version) : format === 'junit' ? junit(results) : table(results, bundles));
    return results.some((r) => r.judged && !r.allowed) ? 1 : 0;
  } catch (err) {
    io.stderr(`portcullis eval: ${(err as Error).message}\n`);
    return 2;
  } finally {
    await prepared?.close();
  }
}

function usage(io: EvalIo, message: string): number {
  io.stderr(`portcullis eval: ${message}\n\n${EVAL_USAGE}\n`);
  return 2;
}
