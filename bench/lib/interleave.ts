/**
 * Runs `measure` once per side as a warm-up, then `rounds` rounds in which
 * every side takes a turn, the order reversed every other round so a drift
 * of the machine favours no side. Returns each round's results by side.
 */
export async function interleave<S extends string, T>(
  sides: readonly S[],
  rounds: number,
  measure: (side: S, warmup: boolean) => Promise<T>,
  report: (round: number, results: Readonly<Record<S, T>>) => void,
): Promise<Array<Record<S, T>>> {
  for (const side of sides) await measure(side, true);
  const results: Array<Record<S, T>> = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    const byside = {} as Record<S, T>;
    for (const side of order) byside[side] = await measure(side, false);
    results.push(byside);
    report(round + 1, byside);
  }
  return results;
}
