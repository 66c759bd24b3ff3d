import { defineProject } from 'vitest/config';

/** Settings every package's test project shares (tensor work on 2 cores is slow: generous timeouts). */
export function packageProject(name: string, extra: { typecheck?: boolean; backendSetup?: boolean } = {}) {
  return defineProject({
    test: {
      name,
      include: ['test/**/*.test.ts'],
      testTimeout: 300_000,
      hookTimeout: 300_000,
      ...(extra.backendSetup ? { setupFiles: ['@openretina/test-utils/backend-setup'] } : {}),
      ...(extra.typecheck ? { typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' } } : {}),
    },
  });
}
