// The task module of the three runtime examples, in plain JavaScript: Node runs it without a TypeScript loader,
// Deno and Bun as they are.

/**
 * Counts the primes in [from, to) by trial division: deliberately CPU-bound.
 * @param {number} from
 * @param {number} to
 * @returns {number}
 */
export function countPrimes(from, to) {
  if (!(from <= to)) throw new RangeError(`empty range [${from}, ${to})`);
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}
