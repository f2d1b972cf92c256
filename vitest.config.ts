import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // Hooks synthesise stacks and start servers: seconds on a busy 2-core machine.
    hookTimeout: 60_000,
  },
});
