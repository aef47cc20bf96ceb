/// <reference lib="dom" />
/**
 * Reads and changes through the Runs API with the session cookie (same origin); a change carries
 * the CSRF token the page was served with. A refused call becomes an `ApiFailure` whose message
 * is fit to show.
 */

export const csrfToken = document.getElementById('console-script')?.dataset.csrf ?? '';

export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.method && init.method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    credentials: 'same-origin',
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    ...(init.signal !== undefined ? { signal: init.signal } : {}),
  });
  const body = (await response.json().catch(() => ({}))) as { error?: { message?: string; code?: string } };
  if (!response.ok) {
    if (response.status === 401) {
      throw new ApiFailure(
        'Your session has ended or the key was revoked: reload the page to sign in.',
        401,
        'unauthorized',
      );
    }
    throw new ApiFailure(
      body.error?.message ?? `the server answered ${response.status}`,
      response.status,
      body.error?.code ?? '',
    );
  }
  return body as T;
}
