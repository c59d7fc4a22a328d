import { defineStrategy, loadSchema } from '@mwan/core';

export interface WeightedOptions {
  mode: 'random' | 'inc';
}

/**
 * New connections go to links in proportion to their weights. `random` draws independently per
 * connection; `inc` is a fixed cycle in which picks are spread out (1:3 → B B A B, repeated).
 */
export default defineStrategy<WeightedOptions>({
  name: 'weighted',
  meta: {
    description: 'new connections in proportion to link weights (mode random or inc)',
    schema: loadSchema('strategies/weighted.schema.json'),
    defaultOptions: { mode: 'random' },
  },
  select({ nft }, { mode }) {
    const { modulus, entries } = mode === 'inc' ? nft.smoothEntries() : nft.weightEntries();
    return nft.map(nft.numgen(mode, modulus), entries);
  },
});
