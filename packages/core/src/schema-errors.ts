import type { ErrorObject } from 'ajv';
import { pointerToPath, showValue } from './json-path.js';

/**
 * Turns ajv's errors into one line per field: `links[1].interface: "eth0;" is not a valid
 * interface name (...)`. ajv reports several errors for one bad value (a failed `anyOf` and each
 * of its branches); only the most telling one per path is kept.
 */
export function formatSchemaErrors(
  errors: readonly ErrorObject[],
  data: unknown,
  root = '',
): string[] {
  const byPath = new Map<string, ErrorObject>();
  for (const error of errors) {
    const key = error.keyword === 'additionalProperties' || error.keyword === 'required'
      ? `${error.instancePath}#${error.keyword}:${JSON.stringify(error.params)}`
      : error.instancePath;
    const seen = byPath.get(key);
    if (!seen || rank(error) > rank(seen)) byPath.set(key, error);
  }
  return [...byPath.values()].map((error) => formatOne(error, data, root));
}

// A described composite (anyOf) says more than any one of its failed branches.
function rank(error: ErrorObject): number {
  // A branch of anyOf says less than the anyOf itself.
  if (/\/(anyOf|oneOf)\/\d+\//.test(error.schemaPath)) return 0;
  if (error.keyword === 'enum') return 4;
  if (error.parentSchema?.description && error.keyword !== 'type') return 3;
  if (error.keyword === 'type') return 2;
  return 1;
}

function valueAt(data: unknown, pointer: string): unknown {
  let node: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}

function formatOne(error: ErrorObject, data: unknown, root: string): string {
  const path = pointerToPath(error.instancePath, root);
  const value = valueAt(data, error.instancePath);
  const described = error.parentSchema?.description as string | undefined;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((error.parentSchema?.properties as object) ?? {});
      const expected = allowed.length ? ` Expected properties: ${allowed.map((p) => `"${p}"`).join(', ')}.` : '';
      return `${path}: unexpected property "${String(params.additionalProperty)}".${expected}`;
    }
    case 'required':
      return `${path}: missing required property "${String(params.missingProperty)}"`;
    case 'type':
      return `${path}: ${showValue(value)} must be ${article(String(params.type))}`;
    case 'minItems':
      return `${path}: must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`;
    case 'maxItems':
      return `${path}: must have at most ${String(params.limit)} items`;
    case 'enum':
      return `${path}: ${showValue(value)} must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    default:
      if (described) return `${path}: ${showValue(value)} is not ${described}`;
      return `${path}: ${showValue(value)} ${error.message ?? 'is invalid'}`;
  }
}

function article(type: string): string {
  if (type === 'integer') return 'a whole number';
  if (type === 'array') return 'an array';
  if (type === 'object') return 'an object';
  return `a ${type}`;
}
