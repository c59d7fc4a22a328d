import { defineStrategy } from '@mwan/core';

export interface DestHashOptions {
  /** Mixed into the hash: another seed gives another (equally weighted) spread. */
  seed?: number;
}

/**
 * All connections to one destination address take the same link, destinations spread over the
 * links by weight. Sites that tie a login to the client's address (banks, some streaming) then
 * see one address, whichever LAN host connects.
 */
export default defineStrategy<DestHashOptions>({
  name: 'dest-hash',
  meta: {
    description: 'all connections to one destination address on one link, destinations spread by weight',
    // The schema is part of the package: a third-party strategy ships its own.
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        seed: {
          description: 'a whole number from 0 to 4294967295 mixed into the hash',
          type: 'integer',
          minimum: 0,
          maximum: 4294967295,
        },
      },
    },
    defaultOptions: {},
  },
  select({ nft }, { seed }) {
    // Buckets over every configured link: a failover moves only the failed link's destinations.
    const { modulus, entries } = nft.hashEntries();
    return nft.map(nft.jhash(['ip daddr'], modulus, seed), entries);
  },
});
