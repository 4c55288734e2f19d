// Renders charts/portcullis with the helm built by scripts/tools.sh (tools/helm, from the Go module proxy).
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers/paths.js';

const run = promisify(execFile);
export const HELM = join(ROOT, '.tools', 'bin', 'helm');
export const CHART = join(ROOT, 'charts', 'portcullis');
// Offline, helm assumes Kubernetes 1.20 unless told; the chart needs 1.27 or later.
export const KUBE_VERSION = '1.35.0';

export function requireHelm(): void {
  try {
    accessSync(HELM, constants.X_OK);
  } catch {
    throw new Error(`helm is missing at ${HELM}: \`npm test\` builds it first; run alone, build it with \`bash scripts/tools.sh helm\``);
  }
}

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> } } & Record<string, any>;

export async function helm(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(HELM, args, { maxBuffer: 16 * 1024 * 1024 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? 1 };
  }
}

const setArgs = (values: Record<string, string>) => Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);

/** `helm template` of the chart into namespace ns with --set values; the rendered objects. */
export async function render(ns: string, values: Record<string, string> = {}, release = 'portcullis'): Promise<Manifest[]> {
  const out = await helm(['template', release, CHART, '--namespace', ns, '--kube-version', KUBE_VERSION, ...setArgs(values)]);
  if (out.code !== 0) throw new Error(`helm template failed: ${out.stderr}`);
  return parseAllDocuments(out.stdout)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
}

export async function lint(values: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const out = await helm(['lint', CHART, '--strict', '--kube-version', KUBE_VERSION, ...setArgs(values)]);
  return { code: out.code, output: out.stdout + out.stderr };
}

export const find = (docs: Manifest[], kind: string, name?: string): Manifest | undefined => docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
