import { defineConfig } from 'vitest/config';

/** Conformance suite over ../shared/corpora (real external data); run by `.ci/run` when present. */
export default defineConfig({
  test: {
    globalSetup: ['./vitest.temp-dir.ts', './vitest.test-databases.ts'],
    include: ['src/**/*.conformance.test.ts', 'conformance/**/*.test.ts'],
    testTimeout: 120_000,
  },
});
