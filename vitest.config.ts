import { defineConfig } from 'vitest/config';

const pkg = (name: string, extra: Record<string, unknown> = {}) => ({
  extends: true as const,
  test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'], ...extra },
});

export default defineConfig({
  ssr: { resolve: { conditions: ['@switchyard/source'] } },
  resolve: { conditions: ['@switchyard/source'] },
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  test: {
    setupFiles: ['reflect-metadata'],
    // the default logger prints warnings; tests that check logs pass their own logger
    env: { SWITCHYARD_LOG_LEVEL: 'silent' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 10_000,
    reporters: process.env.CI ? ['default', 'junit'] : ['default'],
    outputFile: { junit: 'test-results/junit.xml' },
    projects: [
      pkg('core'),
      pkg('transport-ws'),
      pkg('adapter-redis', { fileParallelism: false }),
      pkg('store-postgres', { fileParallelism: false }),
      pkg('adapter-nats', { fileParallelism: false }),
      pkg('adapter-kafka', { fileParallelism: false }),
      pkg('nestjs', { fileParallelism: false }),
      pkg('fastify', { fileParallelism: false }),
      pkg('admin', { fileParallelism: false }),
      { extends: true as const, test: { name: 'bench', root: 'bench', include: ['test/**/*.test.ts'], fileParallelism: false } },
      { extends: true as const, test: { name: 'scenarios', root: 'scenarios', include: ['test/**/*.test.ts'], fileParallelism: false } },
      { extends: true as const, test: { name: 'examples', root: 'examples', include: ['**/test/**/*.test.ts', 'test/**/*.test.ts'], exclude: ['**/node_modules/**'], fileParallelism: false } },
    ],
  },
});
