/**
 * Seeded randomness lives in common/random.ts, where the benchmark reaches it too. This path
 * re-exports it for the test helpers and GPU tests that import it from here.
 */
export { normal, permutation, seededRandom } from '../../common/random.js';
