// onnxruntime-node 1.30 on Linux reports usage telemetry unless ORT_DISABLE_TELEMETRY is set (or a CI variable):
// loadOnnxRuntimeNode opts out when the variable is unset and keeps a value the user set. Each case runs in a fresh
// process with a home folder of its own and without the CI variables, so ONNX Runtime would collect if the opt-out
// failed: its device id and event cache would appear under that home, its debug log in the temporary folder.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./ort-telemetry-child.mjs', import.meta.url));
/** Variables under which ONNX Runtime turns its telemetry off by itself (it checks these names). */
const SUPPRESSING = ['ORT_DISABLE_TELEMETRY', 'ORT_RUNNING_UNIT_TESTS', 'CI', 'GITHUB_ACTIONS', 'TF_BUILD', 'JENKINS_URL'];
const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function runChild(extra: Record<string, string>): { value: string | null; opened: boolean; pid: number; home: string } {
  const home = mkdtempSync(join(tmpdir(), 'ort-telemetry-home-'));
  homes.push(home);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), ...extra };
  for (const name of SUPPRESSING) if (!(name in extra)) delete env[name];
  const out = execFileSync(process.execPath, [CHILD], { env, encoding: 'utf8' });
  return { ...(JSON.parse(out) as { value: string | null; opened: boolean; pid: number }), home };
}

function telemetryTraces(child: { pid: number; home: string }): string[] {
  const candidates = [
    join(child.home, '.cache', 'Microsoft'),
    join(tmpdir(), `mat-debug-${child.pid}.log`),
    `/tmp/mat-debug-${child.pid}.log`,
  ];
  return candidates.filter((p) => existsSync(p));
}

describe("loadOnnxRuntimeNode and ONNX Runtime's telemetry", () => {
  it('opts out when ORT_DISABLE_TELEMETRY is unset: a session opens and leaves no telemetry files', () => {
    const child = runChild({});
    expect(child.value).toBe('1');
    expect(child.opened).toBe(true);
    expect(telemetryTraces(child)).toEqual([]);
  });

  it('keeps a value the user set', () => {
    const child = runChild({ ORT_DISABLE_TELEMETRY: 'true' });
    expect(child.value).toBe('true');
    expect(telemetryTraces(child)).toEqual([]);
  });
});
