// Splits [0, limit) into `parts` ranges of about equal length, as [from, to) pairs for starmap().

/**
 * @param {number} limit
 * @param {number} parts
 * @returns {[number, number][]}
 */
export function ranges(limit, parts) {
  const step = Math.ceil(limit / parts);
  return Array.from({ length: parts }, (_, i) => [i * step, Math.min(limit, (i + 1) * step)]);
}
