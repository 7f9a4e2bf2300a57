/**
 * `@rialto/protocol/testing`: what tests and benchmarks use and products do not (a session
 * server serves the test methods only with `RIALTO_ENABLE_TEST_METHODS=1`).
 */
export { createTestRouter, TestMethods } from "./test-support/test-methods.ts";
