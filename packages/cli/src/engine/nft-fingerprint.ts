import { createHash } from 'node:crypto';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export const fingerprintRendered = (text: string): string => sha256(text);

/** A listed table without its counter values, which change with every packet. */
export const fingerprintListed = (text: string): string => sha256(text.replace(/packets \d+ bytes \d+/g, 'packets _ bytes _'));
