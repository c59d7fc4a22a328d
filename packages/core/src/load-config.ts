import { readFileSync, statSync } from 'node:fs';
import type { Config } from './config-types.js';
import { MAX_CONFIG_BYTES } from './constants.js';
import { configError } from './errors.js';
import { compileSchema, loadSchema, validateWith } from './schemas.js';
import { verifyConfig } from './verify-config.js';

let configValidator: ReturnType<typeof compileSchema> | undefined;

/** Schema validation, then the checks across fields. Throws a `config` MwanError listing every problem. */
export function validateConfig(data: unknown): Config {
  configValidator ??= compileSchema(loadSchema('mwan.schema.json'));
  const problems = validateWith(configValidator, data);
  if (problems.length) throw configError(problems);
  const config = data as Config;
  const crossField = verifyConfig(config);
  if (crossField.length) throw configError(crossField);
  return config;
}

export function parseConfig(text: string, source = 'config'): Config {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // One line per problem: V8's message quotes the offending text, newlines included.
    throw configError(`${source}: not valid JSON (${(error as Error).message.replace(/\s*\n\s*/g, ' ')})`);
  }
  return validateConfig(data);
}

/** Reads and validates a config file. Refuses directories, unreadable and oversized files up front. */
export function loadConfigFile(path: string): Config {
  let size: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) throw configError(`config: ${path} is a directory, not a config file`);
    if (!stat.isFile()) throw configError(`config: ${path} is not a regular file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof Error && error.name === 'MwanError') throw error;
    throw configError(`config: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (size > MAX_CONFIG_BYTES) {
    throw configError(`config: ${path} is ${size} bytes; a config may be at most ${MAX_CONFIG_BYTES}`);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw configError(`config: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseConfig(text, `config ${path}`);
}
