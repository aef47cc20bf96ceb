/** `web.fetch`: a web page as readable markdown, fetched under the network policy. */
import { z } from 'zod';
import { tool } from '../../tools/define-tool.js';
import { createParseSlots, defaultDocumentParseLimits } from '../documents/document-parser.js';
import { htmlToMarkdown } from '../documents/html-markdown.js';
import { type GuardedRequestSettings, HttpRequestError, sendGuardedRequest } from './guarded-request.js';
import type { HttpToolLimits } from './http-request-tool.js';
import { bodyText, mediaType } from './response-text.js';

const fetchInput = z.object({
  url: z.string().min(1).describe('Absolute http:// or https:// URL of the page.'),
  secrets: z
    .array(z.string())
    .optional()
    .describe('Names of configured secrets to send (see http.request); you never see the values.'),
});

export function createWebFetchTool(settings: GuardedRequestSettings, limits: HttpToolLimits) {
  // Pages are converted in the bounded document worker, two at a time.
  const conversionLimits = { ...defaultDocumentParseLimits, slots: createParseSlots(2) };
  return tool({
    name: 'web.fetch',
    description: [
      'Fetch a web page and return its main content as markdown (headings, lists, tables, absolute links);',
      'scripts, styles, navigation, headers and footers are left out. Plain-text and JSON answers are returned as they are.',
      'Only public hosts can be reached; redirects are followed and checked.',
      `At most ${limits.maxOutputCharacters} characters are returned, with truncation stated.`,
      'Example: {"url": "https://en.wikipedia.org/wiki/Duck"}.',
    ].join(' '),
    input: fetchInput,
    effect: 'none',
    execute: async ({ url, secrets }, context) => {
      const response = await sendGuardedRequest(
        {
          method: 'GET',
          url,
          headers: { accept: 'text/html,application/xhtml+xml,text/plain;q=0.9,application/json;q=0.8,*/*;q=0.5' },
          body: undefined,
          secretNames: secrets ?? [],
          followRedirects: true,
        },
        settings,
        context.abortSignal,
      );
      if (response.status >= 400) {
        throw new HttpRequestError(
          settings.secrets.redact(`${response.url} answered ${response.status} ${response.statusText}; check the URL.`),
        );
      }
      const text = bodyText(response);
      if (text === undefined) {
        throw new HttpRequestError(
          `${response.url} is not a web page (${mediaType(response) || 'binary'} content); use http.request, or save it and use doc.read.`,
        );
      }
      const type = mediaType(response);
      let content: string;
      let title: string | undefined;
      if (type === 'text/html' || type === 'application/xhtml+xml' || (type === '' && /<html[\s>]/i.test(text))) {
        const page = await htmlToMarkdown(
          text,
          { mode: 'page', baseUrl: response.url, name: response.url },
          conversionLimits,
        );
        content = page.markdown;
        title = page.title;
      } else content = text;
      content = settings.secrets.redact(content, { cutPartialTail: response.truncated });
      const notes: string[] = [];
      if (content.length > limits.maxOutputCharacters) {
        notes.push(`[truncated: showing ${limits.maxOutputCharacters} of ${content.length} characters]`);
        content = content.slice(0, limits.maxOutputCharacters);
      }
      if (response.truncated) {
        notes.push(`[truncated: the page is longer than ${settings.maxResponseBytes} bytes; only that much was read]`);
      }
      notes.push(...response.notes);
      const heading = [title === undefined ? undefined : `# ${title}`, `Source: ${response.url}`].filter(
        (line): line is string => line !== undefined,
      );
      return settings.secrets.redact([...heading, '', content, ...notes].join('\n'));
    },
  });
}
