import { randomBytes } from 'node:crypto';

/** The namespaces of one lab, by role. */
export const ROLES = ['lan', 'router', 'srv', 'lan2'] as const;
export type Role = (typeof ROLES)[number];

/** No dashes: a name splits unambiguously into prefix, pid, random part and role. */
const PREFIX = /^[a-z][a-z0-9]{0,15}$/;

export const DEFAULT_PREFIX = 'mwanlab';

export interface LabId {
  prefix: string;
  pid: number;
  random: string;
}

export function checkPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) throw new RangeError(`lab prefix ${JSON.stringify(prefix)} must be a-z then a-z/0-9, at most 16 characters`);
  return prefix;
}

/** prefix + creating pid + random part: unique across processes and across labs of one process. */
export function newLabId(prefix: string = DEFAULT_PREFIX, pid: number = process.pid): LabId {
  return { prefix: checkPrefix(prefix), pid, random: randomBytes(3).toString('hex') };
}

/** `mwanlab-1234-a1b2c3`: the stem of the lab's namespaces and of its temporary directory. */
export const labStem = (id: LabId): string => `${id.prefix}-${id.pid}-${id.random}`;

export const namespaceName = (id: LabId, role: Role): string => `${labStem(id)}-${role}`;

export interface ParsedName extends LabId {
  role?: Role;
}

/** The lab a namespace or directory name belongs to, if it has this prefix's shape. */
export function parseLabName(name: string, prefix: string): ParsedName | undefined {
  const match = new RegExp(`^(${checkPrefix(prefix)})-(\\d+)-([0-9a-f]+)(?:-(${ROLES.join('|')}))?$`).exec(name);
  if (!match) return undefined;
  return { prefix: match[1], pid: Number(match[2]), random: match[3], ...(match[4] ? { role: match[4] as Role } : {}) };
}
