/** Turning a received body into text a model can read: decoded by its charset, binary refused. */
import type { ReceivedResponse } from './guarded-request.js';

const binaryTypes =
  /^(image|audio|video|font)\/|^application\/(octet-stream|pdf|zip|gzip|x-tar|x-7z|vnd\.|msword|wasm)/;

/** The response's media type, lower-cased, without parameters (`""` when none). */
export function mediaType(response: ReceivedResponse): string {
  return (header(response, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

export function header(response: ReceivedResponse, name: string): string | undefined {
  return response.headers.find(([key]) => key === name)?.[1];
}

/** The body as text, or `undefined` when it is binary. */
export function bodyText(response: ReceivedResponse): string | undefined {
  if (binaryTypes.test(mediaType(response)) || response.body.subarray(0, 8000).includes(0)) return undefined;
  const charset = /charset\s*=\s*"?([\w-]+)/i.exec(header(response, 'content-type') ?? '')?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(response.body);
  } catch {
    return new TextDecoder('utf-8').decode(response.body);
  }
}
