/** Page ranges as a model writes them: `"3"`, `"1-3"`, `"2,5-7"`, `"4-"` (to the end). */

/**
 * The 1-based page numbers that `range` selects in a document of `pageCount` pages, in order and
 * without repeats.
 * @throws Error saying what is wrong with the range and what the document has.
 */
export function parsePageRange(range: string, pageCount: number): number[] {
  const pages = new Set<number>();
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
    for (let page = first; page <= Math.min(last, pageCount); page++) pages.add(page);
  }
  return [...pages].sort((a, b) => a - b);
}
