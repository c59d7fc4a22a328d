import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { hasHostBits, parseIpv6Prefix } from './ipv6.js';
import { formatSchemaErrors } from './schema-errors.js';

const require = createRequire(import.meta.url);
// ajv-formats is CommonJS: under NodeNext its callable is the `.default` of the namespace.
type AddFormats = typeof addFormatsModule.default;
// At run time the namespace itself is the callable when a bundler has already unwrapped it.
const addFormats: AddFormats = addFormatsModule.default ?? (addFormatsModule as unknown as AddFormats);

/** One ajv instance; compiled validators are cached by schema object. */
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
addFormats(ajv, ['ipv4', 'ipv6']);
// `2001:db8:2::/64`: an IPv6 address, a length, and no bits set after the length.
ajv.addFormat('ipv6-prefix', (value: string) => {
  const prefix = parseIpv6Prefix(value);
  return prefix !== undefined && !hasHostBits(prefix);
});
const compiled = new WeakMap<object, ValidateFunction>();

/**
 * The schemas of @mwan/schemas by file name, put in by the one-file bundle (scripts/bundle-cli.mjs
 * `define`s it), which then reads no file at run time and runs from any directory (/usr/lib/mwan).
 * Undeclared everywhere else: tsc's output and the tests read the files.
 */
declare const MWAN_BUNDLED_SCHEMAS: Readonly<Record<string, Record<string, unknown>>> | undefined;

/** Reads a schema shipped in @mwan/schemas, e.g. `mwan.schema.json` or `strategies/weighted.schema.json`. */
export function loadSchema(file: string): Record<string, unknown> {
  const bundled = typeof MWAN_BUNDLED_SCHEMAS === 'undefined' ? undefined : MWAN_BUNDLED_SCHEMAS[file];
  // A copy, as from the file: callers may keep or change what they get.
  if (bundled) return structuredClone(bundled);
  return JSON.parse(readFileSync(require.resolve(`@mwan/schemas/${file}`), 'utf8')) as Record<string, unknown>;
}

/** Compiles a schema; a broken schema throws (the caller decides whom to blame). */
export function compileSchema(schema: AnySchema): ValidateFunction {
  if (typeof schema !== 'object' || schema === null) throw new Error('a schema must be an object');
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  return validate;
}

/** Validates; returns one line per problem, with paths under `root` (empty when valid). */
export function validateWith(validate: ValidateFunction, data: unknown, root = ''): string[] {
  if (validate(data)) return [];
  return formatSchemaErrors(validate.errors ?? [], data, root);
}
