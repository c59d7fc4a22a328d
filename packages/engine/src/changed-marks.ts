/** What conntrack needs to know of a link: its mark is the way its connections go. */
export interface MarkHolder {
  mark: number;
  name: string;
  interface: string;
}

/**
 * Marks whose connections can no longer go the way they went: the link holding the mark is
 * gone, or the mark now belongs to another link or interface. `before` lists every holder a mark
 * may have had (the last apply's and an interrupted one's); `null` stands for a mark seen on an
 * owned rule whose link nobody remembers, which counts as changed only when no link has it now.
 */
export function changedMarks(now: readonly MarkHolder[], before: ReadonlyMap<number, readonly (MarkHolder | null)[]>): number[] {
  const holders = new Map(now.map((l) => [l.mark, l]));
  return [...before]
    .filter(([mark, old]) => {
      const link = holders.get(mark);
      return !link || old.some((o) => o !== null && (o.name !== link.name || o.interface !== link.interface));
    })
    .map(([mark]) => mark)
    .sort((a, b) => a - b);
}

/** Adds the holders of `links` to a mark map. */
export function addHolders(map: Map<number, (MarkHolder | null)[]>, links: readonly MarkHolder[] | undefined): Map<number, (MarkHolder | null)[]> {
  for (const link of links ?? []) map.set(link.mark, [...(map.get(link.mark) ?? []), link]);
  return map;
}
