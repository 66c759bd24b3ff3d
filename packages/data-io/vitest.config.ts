import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'data-io',
    include: ['test/**/*.test.ts'],
  },
});
