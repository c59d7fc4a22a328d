import { MWAN_PROTO } from '@mwan/core';

/** mwan owns exactly the rules and routes stamped with its protocol number, whoever remembers them. */
export const ownedByMwan = (item: { protocol?: unknown }): boolean => item.protocol === String(MWAN_PROTO);
