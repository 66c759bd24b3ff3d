// Child process of checkpoint-kill.test.ts: saves a checkpoint folder over and over, as saveCheckpoint does (the
// files of one version swapped in with replaceDirectoryAtomic), alternating between two versions, until it is killed.
// Usage: node checkpoint-save-loop.mjs TARGET_DIR VERSION_A_DIR VERSION_B_DIR
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceDirectoryAtomic } from '@openretina/formats/node';

const [target, ...versions] = process.argv.slice(2);
const files = versions.map((v) => ['model.safetensors', 'model.json'].map((f) => [f, readFileSync(join(v, f))]));
for (let i = 0; ; i++) {
  // no fsync: a killed process loses nothing the kernel already has (fsync guards against power loss, not tested here)
  await replaceDirectoryAtomic(
    target,
    (staging) => {
      for (const [name, bytes] of files[i % files.length]) writeFileSync(join(staging, name), bytes);
    },
    { fsync: false },
  );
  if (i === 0) process.stdout.write('saving\n');
}
