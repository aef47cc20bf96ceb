/**
 * DOCX to markdown: mammoth turns the document into semantic HTML (headings by style, lists,
 * tables, bold and italic), which goes through the same HTML-to-markdown path as HTML files.
 * Images are left out: a model cannot see them here and their data would flood the text.
 * mammoth is imported on first conversion, so that importing the document tools stays cheap.
 */
import { DocumentError } from './document-error.js';
import { htmlToMarkdown } from './html-markdown.js';

/** Convert a DOCX file's bytes to markdown. */
export async function docxToMarkdown(data: Buffer, name: string): Promise<string> {
  const { default: mammoth } = await import('mammoth');
  let html: string;
  try {
    const result = await mammoth.convertToHtml(
      { buffer: data },
      { convertImage: mammoth.images.imgElement(async () => ({ src: '' })), externalFileAccess: false },
    );
    html = result.value;
  } catch (error) {
    throw new DocumentError(
      `${name} is not a readable DOCX file (it is damaged, encrypted, or another format such as the older .doc: ${(error as Error).message}).`,
    );
  }
  return (await htmlToMarkdown(html)).markdown;
}
