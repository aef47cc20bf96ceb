import { defineConfig } from 'vitest/config';

/**
 * The fault-injection suite (`npm run test:faults`): real worker processes killed with SIGKILL,
 * real SQLite files. It imports the built library, so run `npm run build` first.
 */
export default defineConfig({
  test: {
    globalSetup: ['./vitest.temp-dir.ts', './vitest.test-databases.ts'],
    include: ['src/**/*.faults.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
