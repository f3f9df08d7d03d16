import { defineConfig } from 'vitest/config';

// Two tiers, named by file suffix (see ENGINEERING.md §10):
//   unit:        *.test.ts        pure code, no servers
//   integration: *.int.test.ts    real Redis and Neo4j, started once by the global setup
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{domain,lib,pipeline,server,components,scripts,app,bench}/**/*.test.{ts,tsx}'],
          exclude: ['**/*.int.test.{ts,tsx}', '**/node_modules/**'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{domain,lib,pipeline,server,components,scripts,app,bench}/**/*.int.test.{ts,tsx}'],
          environment: 'node',
          globalSetup: ['./test/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // One Redis and one Neo4j serve all files; each test owns its namespace.
        },
      },
    ],
  },
});
