/**
 * Whether a parsed JSON value nests arrays or objects more than `max` levels deep. Iterative: the recursion in
 * JSON.stringify, zod and the mappers overflows the stack on the 100,000-level values an attacker can send, so
 * such a value is set aside before anything recursive sees it.
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<readonly [unknown, number]> = [[value, 0]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [v, depth] = top;
    if (typeof v !== "object" || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
