// Two test projects: fast unit tests beside their code, and VM tests that boot the real guest image
// (one boot per file, files run one at a time: a boot wants a whole core for about a minute).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'worker/**/*.test.ts', 'e2e/**/*.test.ts', 'vm-images/**/*.test.ts'],
          exclude: ['**/*.vm.test.ts', '**/node_modules/**', 'vm-images/.cache/**'],
          environment: 'node',
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'vm',
          include: ['worker/**/*.vm.test.ts', 'src/**/*.vm.test.ts'],
          environment: 'node',
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
