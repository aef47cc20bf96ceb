/**
 * Pagination hints for the model: a `Link` header's `rel="next"` (with the query arguments that
 * change, so the model can call the same tool again), and cursor fields in a JSON body
 * (`next`, `next_cursor`, `nextPageToken`, `has_more`…, at the top or one level down).
 */

const cursorKey =
  /^(next|next_?cursor|next_?page(_?token)?|next_?token|next_?url|next_?link|has_?more|end_?cursor|has_?next_?page|starting_?after|cursor)$/i;
const containers = ['meta', 'pagination', 'page_info', 'pageInfo', 'links', '_links', 'response_metadata', 'paging'];

/** One line for the model, or undefined when the response says nothing about more pages. */
export function paginationHint(
  linkHeader: string | undefined,
  body: unknown,
  queryArguments: ReadonlyMap<string, string>,
): string | undefined {
  const hints: string[] = [];
  const next = linkHeader === undefined ? undefined : nextLink(linkHeader);
  if (next !== undefined) {
    const changed: Record<string, string> = {};
    try {
      for (const [name, value] of new URL(next).searchParams) {
        const argument = queryArguments.get(name);
        if (argument !== undefined) changed[argument] = value;
      }
    } catch {
      // Not an absolute URL: the link is still shown as given.
    }
    hints.push(
      Object.keys(changed).length > 0
        ? `next page: call again with ${JSON.stringify(changed)} (Link: ${next})`
        : `next page: ${next}`,
    );
  }
  const cursors = cursorFields(body);
  if (cursors.length > 0) hints.push(`cursor fields: ${cursors.join(', ')}`);
  return hints.length === 0 ? undefined : `[pagination] ${hints.join('; ')}`;
}

function nextLink(header: string): string | undefined {
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /<([^>]*)>(.*)/.exec(part.trim());
    if (match !== null && /rel\s*=\s*"?[^";]*\bnext\b/i.test(match[2] ?? '')) return match[1];
  }
  return undefined;
}

function cursorFields(body: unknown): string[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  const found: string[] = [];
  const look = (record: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(record)) {
      if (!cursorKey.test(key) || value === null || value === undefined || value === '') continue;
      if (typeof value === 'object') continue;
      found.push(`${prefix}${key}=${JSON.stringify(value)}`);
    }
  };
  const record = body as Record<string, unknown>;
  look(record, '');
  for (const name of containers) {
    const inner = record[name];
    if (inner !== null && typeof inner === 'object' && !Array.isArray(inner)) {
      look(inner as Record<string, unknown>, `${name}.`);
    }
  }
  return found.slice(0, 5);
}
