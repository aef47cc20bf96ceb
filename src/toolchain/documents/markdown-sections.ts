/**
 * Sections of a markdown text by heading: a section is a heading and everything after it up to
 * the next heading of the same or a higher level. Used for `doc.read`'s `section` range on DOCX
 * and HTML, which both become markdown first. Lines in fenced code blocks are never headings.
 */

export interface MarkdownHeading {
  level: number;
  text: string;
  /** Index of the heading's line. */
  line: number;
}

/** The ATX headings (`# Title`) of a markdown text, in order. */
export function markdownHeadings(markdown: string): MarkdownHeading[] {
  const headings: MarkdownHeading[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, line) => {
    const fenceMatch = /^\s{0,3}(`{3,}|~{3,})/.exec(text);
    if (fenceMatch !== null) {
      const marker = fenceMatch[1]!;
      if (fence === undefined) fence = marker[0]!.repeat(marker.length);
      else if (marker.startsWith(fence)) fence = undefined;
      return;
    }
    if (fence !== undefined) return;
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(text);
    if (heading !== null) headings.push({ level: heading[1]!.length, text: heading[2]!, line });
  });
  return headings;
}

/**
 * The section under the heading named `title` (case and spacing ignored; a unique partial match
 * is accepted).
 * @throws Error listing the headings when none, or more than one, matches.
 */
export function markdownSection(markdown: string, title: string): string {
  const headings = markdownHeadings(markdown);
  const wanted = normalize(title);
  let matches = headings.filter((heading) => normalize(heading.text) === wanted);
  if (matches.length === 0) matches = headings.filter((heading) => normalize(heading.text).includes(wanted));
  if (matches.length !== 1) {
    const listed = headings
      .slice(0, 60)
      .map((heading) => `${'#'.repeat(heading.level)} ${heading.text}`)
      .join('; ');
    const reason =
      matches.length === 0 ? `no heading matches "${title}"` : `${matches.length} headings match "${title}"`;
    throw new Error(
      headings.length === 0
        ? `${reason}: the document has no headings; read it without \`section\`.`
        : `${reason}; use one of these headings exactly: ${listed}${headings.length > 60 ? '; …' : ''}`,
    );
  }
  const start = matches[0]!;
  const end = headings.find((heading) => heading.line > start.line && heading.level <= start.level);
  const lines = markdown.split('\n');
  return lines
    .slice(start.line, end === undefined ? lines.length : end.line)
    .join('\n')
    .trim();
}

function normalize(text: string): string {
  return text.replace(/\s+/g, ' ').trim().toLowerCase();
}
