import { defineStrategy, loadSchema } from '@mwan/core';

/** Each new connection takes the next link in turn; weights are ignored. */
export default defineStrategy<Record<string, never>>({
  name: 'round-robin',
  meta: {
    description: 'each new connection takes the next link in turn (weights ignored)',
    schema: loadSchema('strategies/round-robin.schema.json'),
    defaultOptions: {},
  },
  select({ links, nft }) {
    return nft.map(nft.numgen('inc', links.length), links.map((link, i) => ({ from: i, link })));
  },
});
