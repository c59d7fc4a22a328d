import { defineStrategy, loadSchema } from '@mwan/core';

export interface SourceHashOptions {
  seed?: number;
}

/**
 * Every connection from one LAN address takes the same link (weighted over addresses), so
 * services that tie a session to the client's public address keep seeing one address.
 */
export default defineStrategy<SourceHashOptions>({
  name: 'source-hash',
  meta: {
    description: 'all connections of one LAN address on one link, addresses spread by weight',
    schema: loadSchema('strategies/source-hash.schema.json'),
    defaultOptions: {},
  },
  select({ nft }, { seed }) {
    // Buckets over every configured link: a failover moves only the failed link's clients.
    const { modulus, entries } = nft.hashEntries();
    return nft.map(nft.jhash(['ip saddr'], modulus, seed), entries);
  },
});
