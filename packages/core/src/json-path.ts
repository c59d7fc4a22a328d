/** `/links/1/interface` (JSON pointer) → `links[1].interface`, the form every error message uses. */
export function pointerToPath(pointer: string, root = ''): string {
  let path = root;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) path += `[${part}]`;
    else path += path ? `.${part}` : part;
  }
  return path || '(root)';
}

/** A value as it should appear inside an error line: JSON, shortened, on one line. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // Too deep to stringify (a hostile `[[[[...]]]]`): String() of it would recurse as deep.
    text = Array.isArray(value) ? '[...]' : value !== null && typeof value === 'object' ? '{...}' : String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
