import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['./vitest.temp-dir.ts', './vitest.test-databases.ts'],
    include: ['src/**/*.test.ts', 'examples/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', '**/*.conformance.test.ts', '**/*.faults.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
