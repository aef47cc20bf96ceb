/**
 * Provider base URLs may carry credentials: userinfo (`https://user:pass@host/v1`) or a key in the
 * query string (`?key=…`, `?api_key=…`). Error messages name the URL they failed on and may quote
 * what the upstream or the fetch implementation said about it; those messages go to journals,
 * logs and server clients, so the credentials are replaced before a message is built.
 */

const placeholder = '[redacted]';

/** Parts of a URL shorter than this are not searched for in free text (they would match words). */
const minimumSecretLength = 4;

/** `url` as it may be shown: userinfo and every query value replaced, the rest kept. */
export function redactedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL the platform parses: still hide anything between `//` and an `@`.
    return url.replace(/\/\/[^/?#\s]*@/g, `//${placeholder}@`).replace(/([?&][^=&#\s]+=)[^&#\s]*/g, `$1${placeholder}`);
  }
  const hasUserinfo = parsed.username !== '' || parsed.password !== '';
  if (!hasUserinfo && parsed.search === '') return url;
  const userinfo = hasUserinfo ? `${placeholder}@` : '';
  const query = [...parsed.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=${placeholder}`).join('&');
  return `${parsed.protocol}//${userinfo}${parsed.host}${parsed.pathname}${query ? `?${query}` : ''}`;
}

/** The credentials `url` carries (userinfo, query values), raw and decoded, longest first. */
function credentialsOf(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const raw = [
    parsed.username,
    parsed.password,
    ...parsed.search
      .slice(1)
      .split('&')
      .map((pair) => pair.split('=')[1] ?? ''),
  ];
  const values = [...raw, ...raw.map(safeDecode), ...parsed.searchParams.values()];
  return [...new Set(values.filter((value) => value.length >= minimumSecretLength))].sort(
    (left, right) => right.length - left.length,
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * `text` (an upstream's or fetch's message) with `url`, each credential it carries, and the
 * userinfo of any other URL in it redacted.
 */
export function redactUrlCredentials(text: string, url: string | undefined): string {
  let redacted = url === undefined ? text : text.replaceAll(url, redactedUrl(url));
  for (const secret of url === undefined ? [] : credentialsOf(url)) redacted = redacted.replaceAll(secret, placeholder);
  return redacted.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi, `$1${placeholder}@`);
}
