/**
 * HTML to markdown, shared by `doc.read` (local HTML files) and `web.fetch` (pages). linkedom
 * parses the page, noise is removed (scripts, styles, and for a web page its navigation, header
 * and footer), and turndown writes the markdown. Tables become GFM tables, which turndown's core
 * does not do.
 *
 * Both libraries are imported on first conversion: loading them takes a few hundred
 * milliseconds, which a process that never reads a page or an HTML file should not pay.
 */
import type TurndownService from 'turndown';

export interface HtmlToMarkdownOptions {
  /**
   * `page` (a web page): keep only the main content, dropping navigation, headers, footers and
   * asides. `document` (a file): keep everything that is visible text. Default `document`.
   */
  mode?: 'page' | 'document';
  /** Address the page came from; relative links and images are made absolute against it. */
  baseUrl?: string;
}

export interface MarkdownDocument {
  title: string | undefined;
  markdown: string;
}

/** The part of the DOM this module uses; the project compiles without the DOM library. */
interface DomElement {
  readonly textContent: string | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): Iterable<DomElement>;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  remove(): void;
}

interface DomDocument extends DomElement {
  readonly body: DomElement | null;
  readonly documentElement: DomElement | null;
}

/** Elements that never hold readable text. */
const invisible = 'script, style, noscript, template, iframe, object, embed, svg, canvas, link, meta, [hidden]';
/** Elements that frame a web page rather than say what it is about. */
const pageChrome =
  'nav, header, footer, aside, form, button, dialog, [role="navigation"], [role="banner"], [role="contentinfo"], [aria-hidden="true"]';

/** Convert an HTML string to markdown. */
export async function htmlToMarkdown(html: string, options: HtmlToMarkdownOptions = {}): Promise<MarkdownDocument> {
  const [{ parseHTML }, { default: Turndown }] = await Promise.all([import('linkedom'), import('turndown')]);
  const document = parseHTML(asFullDocument(html)).document as unknown as DomDocument;
  const title = document.querySelector('title')?.textContent?.trim() || undefined;
  for (const element of document.querySelectorAll(invisible)) element.remove();
  let root: DomElement | null = document.body ?? document.documentElement;
  if (options.mode === 'page') {
    root = document.querySelector('main, article, [role="main"]') ?? root;
    for (const element of root?.querySelectorAll(pageChrome) ?? []) element.remove();
  }
  if (options.baseUrl !== undefined) absolutizeLinks(root, options.baseUrl);
  const markdown = root === null ? '' : converter(Turndown).turndown(root as unknown as TurndownService.Node);
  return { title, markdown: markdown.trim() };
}

/** linkedom puts a bare fragment (as mammoth writes) in the wrong place, so it gets a document around it. */
function asFullDocument(html: string): string {
  if (/<html[\s>]/i.test(html)) return html;
  return `<!doctype html><html>${/<body[\s>]/i.test(html) ? html : `<body>${html}</body>`}</html>`;
}

function absolutizeLinks(root: DomElement | null, baseUrl: string): void {
  if (root === null) return;
  for (const [selector, attribute] of [
    ['a[href]', 'href'],
    ['img[src]', 'src'],
  ] as const) {
    for (const element of root.querySelectorAll(selector)) {
      const value = element.getAttribute(attribute);
      if (value === null) continue;
      try {
        element.setAttribute(attribute, new URL(value, baseUrl).href);
      } catch {
        // An unparsable link stays as written.
      }
    }
  }
}

function converter(Turndown: typeof TurndownService): TurndownService {
  const service = new Turndown({ headingStyle: 'atx', codeBlockStyle: 'fenced', bulletListMarker: '-' });
  service.addRule('table', {
    filter: 'table',
    replacement: (_content, node) => `\n\n${markdownTable(node as unknown as DomElement)}\n\n`,
  });
  // Links whose target is a script, and images without a description, are noise for a reader.
  service.addRule('script-link', {
    filter: (node) => node.nodeName === 'A' && (node.getAttribute('href') ?? '').trim().startsWith('javascript:'),
    replacement: (content) => content,
  });
  service.addRule('bare-image', {
    filter: (node) => node.nodeName === 'IMG' && (node.getAttribute('alt') ?? '').trim() === '',
    replacement: () => '',
  });
  return service;
}

function markdownTable(table: DomElement): string {
  const rows = [...table.querySelectorAll('tr')].map((row) =>
    [...row.querySelectorAll('th, td')].map((cell) =>
      (cell.textContent ?? '').replace(/\s+/g, ' ').trim().replaceAll('|', '\\|'),
    ),
  );
  const width = Math.max(0, ...rows.map((cells) => cells.length));
  if (width === 0) return '';
  const padded = rows.map((cells) => [...cells, ...Array<string>(width - cells.length).fill('')]);
  const [header, ...body] = padded;
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header!), line(Array<string>(width).fill('---')), ...body.map(line)].join('\n');
}
