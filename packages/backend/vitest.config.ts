import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'backend',
    include: ['test/**/*.test.ts'],
    // The wasm backend needs a moment to start; the gradient suite runs ~50 small FD checks per backend.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
