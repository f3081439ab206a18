import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'web/src/**/*.test.ts', 'sim/**/*.test.ts', 'bench/**/*.test.ts'],
    // Each test file opens its own database (embedded PGlite, or a fresh schema on PostgreSQL).
    pool: 'forks',
    globalSetup: ['src/test-setup.global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
