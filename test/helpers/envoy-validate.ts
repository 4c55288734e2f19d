// Envoy's API as the judge of a rendered bootstrap: tools/envoy-validate (go-control-plane's generated types
// and validations), built into .tools/bin by scripts/tools.sh.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export const ENVOY_VALIDATE = join(ROOT, '.tools', 'bin', 'envoy-validate');

export interface Verdict {
  ok: boolean;
  /** One line per document: "ok NAME" or "invalid NAME: problem". */
  lines: string[];
}

/** Validates the bootstraps in one run of the tool. */
export async function validateBootstraps(bootstraps: unknown[]): Promise<Verdict> {
  if (!existsSync(ENVOY_VALIDATE)) throw new Error(`${ENVOY_VALIDATE} is missing: run bash scripts/tools.sh test`);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-envoy-'));
  try {
    const file = join(dir, 'bootstraps.json');
    await writeFile(file, JSON.stringify(bootstraps));
    return await new Promise((resolve, reject) => {
      execFile(ENVOY_VALIDATE, [file], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = (err as { code?: unknown } | null)?.code;
        if (err && code !== 1) return reject(new Error(`envoy-validate failed: ${stderr || err.message}`));
        resolve({ ok: !err, lines: stdout.trim().split('\n').filter(Boolean) });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
