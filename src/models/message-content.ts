/**
 * Reading message content that may be text or parts, for code that needs only the words (token
 * counting, cost estimates, summaries).
 */
import type { UserContentPart } from './spec.js';

/**
 * The text of a user message's content; an image or file becomes a short placeholder naming it,
 * so summaries still mention it.
 */
export function userContentText(content: string | readonly UserContentPart[]): string {
  if (typeof content === 'string') return content;
  return content
    .map((part) => (part.type === 'text' ? part.text : `[${part.type} ${part.filename ?? part.mediaType}]`))
    .join('\n');
}

/** Rough token count of an image or file part, for estimates before the call (the provider counts exactly). */
export function attachmentTokenEstimate(part: Exclude<UserContentPart, { type: 'text' }>): number {
  // About 1,600 tokens covers one large image on both OpenAI and Anthropic; a PDF page is
  // about the same, and the base64 length gives the page count only roughly.
  const bytes = Math.floor((part.data.length * 3) / 4);
  return part.type === 'image' ? 1_600 : Math.max(1_600, Math.ceil(bytes / 50_000) * 1_600);
}
