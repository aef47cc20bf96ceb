/** An error reading a document, with a message that tells the model what to do about it. */
export class DocumentError extends Error {
  override readonly name = 'DocumentError';
}
