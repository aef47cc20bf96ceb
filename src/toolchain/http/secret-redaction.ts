/**
 * Redaction of secret values from what the HTTP tools return, made to hold against the ways a
 * text can spell a value. Rather than listing encoded copies of each secret, the text is read
 * through a decoding view: JSON and JavaScript escapes (`\u005f`, `\x5f`, `\/`), Markdown
 * backslash escapes (`\_`, which turndown writes for every `_`), percent-encoding (`%5F`, any
 * mix of encoded and plain characters) and HTML character references (`&#95;`, `&lowbar;`, and
 * numeric ones without their `;`, `&#95`, as browsers read them) are decoded, twice over for
 * doubly escaped text, while each decoded character remembers the span of the original it came
 * from. A secret found in the decoded view has its original span
 * replaced, however it was spelled. Base64 (any alignment, standard and URL alphabets) and hex
 * copies are matched as plain strings.
 *
 * Bodies are redacted as raw bytes (read as Latin-1, one character per byte), before they are
 * decoded by charset, converted to markdown or cut; header values before they are shortened;
 * and the tool's final text once more, after every conversion.
 */

export interface RedactedSecret {
  name: string;
  /** The value and the header value built from it (e.g. `Bearer <value>`). */
  values: readonly string[];
}

export interface Redactor {
  /** `text` with every secret, in any spelling the view decodes, replaced by `[secret NAME]`. */
  redact(text: string, options?: { cutPartialTail?: boolean }): string;
  /** The same on raw bytes (a body): the result is bytes too. */
  redactBytes(bytes: Buffer, options?: { cutPartialTail?: boolean }): Buffer;
}

interface Form {
  text: string;
  label: string;
}

/** Secrets shorter than this are matched only as written (base64 and hex fragments would be too short to be safe). */
const minimumEncodedLength = 8;

export function createRedactor(secrets: readonly RedactedSecret[]): Redactor {
  const forms: Form[] = [];
  for (const secret of secrets) {
    const label = `[secret ${secret.name}]`;
    for (const value of secret.values) {
      if (value === '') continue;
      forms.push({ text: value, label });
      const bytes = Buffer.from(value);
      forms.push({ text: bytes.toString('latin1'), label });
      if (value.length >= minimumEncodedLength) {
        for (const text of base64Cores(bytes)) forms.push({ text, label });
        forms.push({ text: bytes.toString('hex'), label }, { text: bytes.toString('hex').toUpperCase(), label });
      }
    }
  }
  // Longest first, so that a value containing another secret's value is replaced whole.
  const unique = [...new Map(forms.map((form) => [form.text, form])).values()].sort(
    (left, right) => right.text.length - left.text.length,
  );
  const redact = (text: string, options: { cutPartialTail?: boolean } = {}) => redactText(text, unique, options);
  return {
    redact,
    redactBytes: (bytes, options) => Buffer.from(redact(bytes.toString('latin1'), options), 'latin1'),
  };
}

/** The base64 text of `bytes` wherever they sit in a longer base64 stream (three alignments, two alphabets). */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const total = offset + bytes.length;
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Characters that also depend on the bytes before or after the secret are left out.
    const start = offset === 0 ? 0 : offset + 1;
    const core = encoded.slice(start, Math.floor(total / 3) * 4);
    if (core.length >= minimumEncodedLength) {
      cores.push(core, core.replaceAll('+', '-').replaceAll('/', '_'));
    }
  }
  return cores;
}

/**
 * A decoded view of a text: each character with the span of the original it stands for
 * (`starts`/`ends` absent: the original itself).
 */
interface View {
  text: string;
  starts?: Uint32Array;
  ends?: Uint32Array;
}

const startOf = (view: View, index: number) => view.starts?.[index] ?? index;
const endOf = (view: View, index: number) => view.ends?.[index] ?? index + 1;

const namedReferences: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  lowbar: '_',
  UnderBar: '_',
  sol: '/',
  bsol: '\\',
  period: '.',
  colon: ':',
  equals: '=',
  plus: '+',
  minus: '-',
  hyphen: '-',
  dash: '-',
  num: '#',
  percnt: '%',
  excl: '!',
  tilde: '~',
  ast: '*',
  nbsp: ' ',
};

/** Named references a browser also decodes without their `;` (`&amp`, `&lt`…, in running text). */
const legacyReferences = ['amp', 'lt', 'gt', 'quot', 'nbsp'] as const;

const numericReference = /&#(?:([xX])([0-9a-fA-F]+)|(\d+));?/y;
const namedReference = /&([A-Za-z][A-Za-z0-9]{1,31});/y;

/**
 * The character reference at `index` of `input`, read as a browser reads it: numeric ones with
 * or without their `;` (`&#95`, `&#x5f` before the next character), any number of leading zeros,
 * the digits taken greedily (`&#950` is U+03B6, not `_0`); out-of-range code points are U+FFFD.
 */
function readCharacterReference(input: string, index: number): { character: string; end: number } | undefined {
  numericReference.lastIndex = index;
  const numeric = numericReference.exec(input);
  if (numeric !== null) {
    const digits = (numeric[2] ?? numeric[3]!).replace(/^0+(?=.)/, '');
    const code = digits.length > 8 ? Number.POSITIVE_INFINITY : Number.parseInt(digits, numeric[1] ? 16 : 10);
    const valid = code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff);
    return { character: valid ? String.fromCodePoint(code) : '\ufffd', end: index + numeric[0].length };
  }
  namedReference.lastIndex = index;
  const named = namedReference.exec(input);
  const decoded = named === null ? undefined : namedReferences[named[1]!];
  if (named !== null && decoded !== undefined) return { character: decoded, end: index + named[0].length };
  for (const name of legacyReferences) {
    if (input.startsWith(name, index + 1)) return { character: namedReferences[name]!, end: index + 1 + name.length };
  }
  return undefined;
}

/** Decode one layer of escapes of `source`, mapping each character back to `source`'s original spans. */
function decodeLayer(source: View): View {
  const text: string[] = [];
  const input = source.text;
  const starts = new Uint32Array(input.length);
  const ends = new Uint32Array(input.length);
  let count = 0;
  let index = 0;
  const push = (character: string, from: number, to: number) => {
    text.push(character);
    starts[count] = startOf(source, from);
    ends[count] = endOf(source, to - 1);
    count++;
  };
  while (index < input.length) {
    const character = input[index]!;
    if (character === '\\') {
      const unicode = /^u([0-9a-fA-F]{4})/.exec(input.slice(index + 1, index + 6));
      const hex = /^x([0-9a-fA-F]{2})/.exec(input.slice(index + 1, index + 4));
      const next = input[index + 1];
      if (unicode !== null) {
        push(String.fromCharCode(Number.parseInt(unicode[1]!, 16)), index, index + 6);
        index += 6;
        continue;
      }
      if (hex !== null) {
        push(String.fromCharCode(Number.parseInt(hex[1]!, 16)), index, index + 4);
        index += 4;
        continue;
      }
      if (next !== undefined && /[!-/:-@[-`{-~]/.test(next)) {
        push(next, index, index + 2);
        index += 2;
        continue;
      }
    } else if (character === '%') {
      const hex = /^[0-9a-fA-F]{2}/.exec(input.slice(index + 1, index + 3));
      if (hex !== null) {
        push(String.fromCharCode(Number.parseInt(hex[0], 16)), index, index + 3);
        index += 3;
        continue;
      }
    } else if (character === '&') {
      const reference = readCharacterReference(input, index);
      if (reference !== undefined) {
        push(reference.character, index, reference.end);
        index = reference.end;
        continue;
      }
    }
    push(character, index, index + 1);
    index++;
  }
  return { text: text.join(''), starts: starts.subarray(0, count), ends: ends.subarray(0, count) };
}

/** The text and its decoded layers (two at most: doubly escaped text). */
function viewsOf(text: string): View[] {
  const views: View[] = [{ text }];
  for (let layer = 0; layer < 2; layer++) {
    // Only a text with an escape character has another spelling to decode.
    if (!/[\\%&]/.test(views[views.length - 1]!.text)) break;
    const decoded = decodeLayer(views[views.length - 1]!);
    if (decoded.text === views[views.length - 1]!.text) break;
    views.push(decoded);
  }
  return views;
}

/** An escape sequence cut off by the end of the text (`\u00`, `%5`, `&#9`). */
const partialEscapeAtEnd = /(?:\\+(?:u[0-9a-fA-F]{0,3}|x[0-9a-fA-F]?)?|%[0-9a-fA-F]?|&#?[xX]?[0-9a-zA-Z]{0,7})$/;

/** Where a text cut at a size cap starts to spell the beginning of a secret, if it does. */
function partialTailStart(text: string, forms: readonly Form[]): number | undefined {
  const partial = partialEscapeAtEnd.exec(text)?.[0].length ?? 0;
  let cutAt: number | undefined;
  for (const candidate of partial > 0 ? [text, text.slice(0, text.length - partial)] : [text]) {
    for (const view of viewsOf(candidate)) {
      for (const form of forms) {
        for (let length = Math.min(form.text.length - 1, view.text.length); length >= 2; length--) {
          if (view.text.endsWith(form.text.slice(0, length))) {
            const start = startOf(view, view.text.length - length);
            if (cutAt === undefined || start < cutAt) cutAt = start;
            break;
          }
        }
      }
    }
  }
  return cutAt;
}

function redactText(text: string, forms: readonly Form[], options: { cutPartialTail?: boolean }): string {
  if (forms.length === 0 || text === '') return text;
  const views = viewsOf(text);
  const spans: Array<{ start: number; end: number; label: string }> = [];
  for (const view of views) {
    for (const form of forms) {
      let from = view.text.indexOf(form.text);
      while (from !== -1) {
        const last = from + form.text.length - 1;
        spans.push({ start: startOf(view, from), end: endOf(view, last), label: form.label });
        from = view.text.indexOf(form.text, from + form.text.length);
      }
    }
  }
  // A text cut at a size cap may end in the first characters of a secret, in any spelling.
  const cutAt = options.cutPartialTail ? partialTailStart(text, forms) : undefined;
  if (spans.length === 0 && cutAt === undefined) return text;
  spans.sort((left, right) => left.start - right.start || right.end - left.end);
  let output = '';
  let position = 0;
  const limit = cutAt ?? text.length;
  for (const span of spans) {
    if (span.start >= limit) break;
    if (span.end <= position) continue;
    if (span.start >= position) {
      output += text.slice(position, span.start);
      output += span.label;
    }
    position = Math.max(position, span.end);
  }
  if (position < limit) output += text.slice(position, limit);
  if (cutAt !== undefined) output += '[secret cut]';
  return output;
}
