/**
 * Tool names for connector operations: `<connector>.<operation>`, with characters a tool name
 * may not hold replaced by `_`, cut to the 64-character limit (with a short digest so that two
 * long names stay apart), and a numbered suffix when two operations still end up alike.
 */
import { createHash } from 'node:crypto';

const maxLength = 64;

/** Names for `operations` (in order) under the prefix `connector`, unique and valid. */
export function connectorToolNames(connector: string, operations: readonly string[]): string[] {
  const taken = new Set<string>();
  return operations.map((operation) => {
    const base = clip(`${connector}.${sanitize(operation)}`, operation);
    let name = base;
    for (let counter = 2; taken.has(name.toLowerCase()); counter++) {
      const suffix = `_${counter}`;
      name = `${base.slice(0, maxLength - suffix.length)}${suffix}`;
    }
    taken.add(name.toLowerCase());
    return name;
  });
}

function sanitize(operation: string): string {
  const cleaned = operation.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  return cleaned === '' ? 'operation' : cleaned;
}

function clip(name: string, original: string): string {
  if (name.length <= maxLength) return name;
  const digest = createHash('sha256').update(original).digest('hex').slice(0, 6);
  return `${name.slice(0, maxLength - 7)}_${digest}`;
}
