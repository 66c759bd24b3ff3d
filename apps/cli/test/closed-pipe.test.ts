// The bin writes to a pipe that its reader closes early (`openretina --help | head -1`): it must end quietly.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('a closed stdout pipe', () => {
  it('ends `--help` without an EPIPE stack trace when the reader stops after the first chunk', async () => {
    const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // Close our end before the CLI's first write has been read, so every write of the help text meets a closed pipe.
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toMatch(/EPIPE|Unhandled|at .*\(node:/);
    expect(code).toBe(0);
  });
});
