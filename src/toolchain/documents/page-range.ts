/** Page ranges as a model writes them: `"3"`, `"1-3"`, `"2,5-7"`, `"4-"` (to the end). */

/** The pages `first` to `last`, both included (1-based). */
export interface PageSpan {
  first: number;
  last: number;
}

/**
 * The pages that `range` selects in a document of `pageCount` pages, as spans in order, merged,
 * without repeats. Spans, not a list of page numbers: a small PDF can declare two billion pages,
 * and `"1-"` must not become an array that size.
 * @throws Error saying what is wrong with the range and what the document has.
 */
export function parsePageRange(range: string, pageCount: number): PageSpan[] {
  const spans: PageSpan[] = [];
  for (const part of range.split(',')) {
    const match = /^\s*(\d+)\s*(?:(-)\s*(\d*)\s*)?$/.exec(part);
    if (match === null) {
      throw new Error(`pages "${range}" is not a page range; write it like "3", "1-3", "2,5-7" or "4-".`);
    }
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : match[3] === '' ? pageCount : Number(match[3]);
    if (first < 1 || last < first) {
      throw new Error(`pages "${range}": "${part.trim()}" is empty; pages are numbered from 1 and ranges go upward.`);
    }
    if (first > pageCount) {
      throw new Error(`pages "${range}" starts past the end: the document has ${pageCount} pages.`);
    }
    spans.push({ first, last: Math.min(last, pageCount) });
  }
  spans.sort((a, b) => a.first - b.first);
  const merged: PageSpan[] = [];
  for (const span of spans) {
    const previous = merged.at(-1);
    if (previous !== undefined && span.first <= previous.last + 1) previous.last = Math.max(previous.last, span.last);
    else merged.push({ ...span });
  }
  return merged;
}

/** Every page of a document of `pageCount` pages. */
export function allPages(pageCount: number): PageSpan[] {
  return pageCount > 0 ? [{ first: 1, last: pageCount }] : [];
}
