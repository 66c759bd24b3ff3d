import { defineConfig } from 'vitest/config';

// One run over every package and app (each is a vitest project with its own defaults).
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tests'],
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
