/**
 * Rule-based checks on a model's GSM8K answer, using only its text (and the question): is there
 * a clear final numeric answer, do the arithmetic claims in the working hold, does the answer
 * hedge. These are what a cascade can know at run time, before deciding to escalate.
 *
 * Arithmetic is evaluated by a small recursive-descent parser over numbers, + - * / ( ) and %,
 * never by `eval`.
 */

const numberPattern = /-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+/g;

/** Parse `12,500.5` or `.4` into a number; undefined for anything else. */
export function parseNumber(text) {
  const cleaned = text.replace(/,/g, '');
  if (!/^-?(\d+(\.\d+)?|\.\d+)$/.test(cleaned)) return undefined;
  return Number(cleaned);
}

/**
 * Evaluate an arithmetic expression of numbers, + - * / ( ) and postfix % (as /100). Returns
 * undefined when the text is not such an expression or divides by zero.
 */
export function evaluateArithmetic(text) {
  const tokens = text.replace(/\*\*/g, '^').match(/(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+|[-+*/()%^]/g);
  if (tokens === null || tokens.join('') !== text.replace(/\*\*/g, '^').replace(/\s+/g, '')) return undefined;
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];
  function expression() {
    let value = term();
    while (peek() === '+' || peek() === '-') {
      const operator = take();
      const right = term();
      if (value === undefined || right === undefined) return undefined;
      value = operator === '+' ? value + right : value - right;
    }
    return value;
  }
  function term() {
    let value = factor();
    while (peek() === '*' || peek() === '/') {
      const operator = take();
      const right = factor();
      if (value === undefined || right === undefined) return undefined;
      if (operator === '/' && right === 0) return undefined;
      value = operator === '*' ? value * right : value / right;
    }
    return value;
  }
  function factor() {
    const base = unary();
    if (peek() !== '^') return base;
    take();
    const exponent = factor();
    if (base === undefined || exponent === undefined) return undefined;
    return base ** exponent;
  }
  function unary() {
    const token = take();
    let value;
    if (token === '-') {
      const inner = unary();
      value = inner === undefined ? undefined : -inner;
    } else if (token === '+') {
      value = unary();
    } else if (token === '(') {
      value = expression();
      if (take() !== ')') return undefined;
    } else if (token !== undefined && /^[\d.]/.test(token)) {
      value = parseNumber(token);
    } else {
      return undefined;
    }
    while (value !== undefined && peek() === '%') {
      take();
      value /= 100;
    }
    return value;
  }
  const value = expression();
  if (position !== tokens.length || value === undefined || !Number.isFinite(value)) return undefined;
  return value;
}

/**
 * How `claimed` (written as `claimedText`) states `computed`: `exact` (equal, or equal after
 * rounding to the decimals the claim shows, as with money in cents or 33.33 for 100/3),
 * `rounded` (an integer claim within one of a non-integer result: a deliberate floor or ceiling
 * such as "73/8 = 9 full boxes", right or wrong), or `wrong`.
 *
 * @returns {'exact' | 'rounded' | 'wrong'}
 */
export function judgeClaim(computed, claimed, claimedText) {
  if (Math.abs(computed - claimed) <= 1e-9 * Math.max(1, Math.abs(computed))) return 'exact';
  const decimals = (claimedText.split('.')[1] ?? '').replace(/\D/g, '').length;
  if (decimals > 0 && Math.abs(computed - claimed) <= 10 ** -decimals / 2 + 1e-9) return 'exact';
  if (Number.isInteger(claimed) && !Number.isInteger(computed) && Math.abs(computed - claimed) < 1) return 'rounded';
  return 'wrong';
}

/** Normalise the ways models write arithmetic: `\*`, `×`, `x` between numbers, `$`, `−`. */
function normaliseArithmetic(text) {
  return text
    .replace(/\\\*/g, '*')
    .replace(/[×·]/g, '*')
    .replace(/[−–]/g, '-')
    .replace(/÷/g, '/')
    .replace(/(\d[\d,.%]*)\s*[xX]\s*(?=[$(]?\s*\d)/g, '$1 * ')
    .replace(/\$/g, '');
}

const numberText = String.raw`(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+`;
// One side of an equation; it neither starts nor ends with whitespace, so that the guard in
// `arithmeticClaims` sees the characters really next to it.
const operand = String.raw`(?:[-(]\s*)*(?:${numberText})%?(?:\s*\))*`;
const side = String.raw`${operand}(?:\s*(?:[-+*/^]|\*\*)\s*${operand})*`;
const equationChain = new RegExp(`${side}(?:\\s*=\\s*${side})+`, 'g');

/**
 * Judge one written step `left = right`. The right side is read as the value it states, or, when
 * it goes on computing (`12 + 4 = 16 / 2 = 8`), as its leading number; a percentage may be read
 * as a percentage or as its plain number (`0.2 * 100 = 20%`). The most charitable reading wins:
 * a claim is `wrong` only if no reading holds.
 */
function judgeStep(left, right) {
  const computed = evaluateArithmetic(left);
  if (computed === undefined) return undefined;
  const readings = [];
  const rightValue = evaluateArithmetic(right);
  if (rightValue !== undefined) readings.push([rightValue, right]);
  const leading = right.match(new RegExp(`^(${numberText})(%?)`));
  if (leading !== null) {
    const value = parseNumber(leading[1]);
    if (value !== undefined) {
      readings.push([value, leading[1]]);
      if (leading[2] === '%') readings.push([value / 100, leading[1]]);
    }
  }
  if (readings.length === 0) return undefined;
  const verdicts = readings.map(([value, text]) => judgeClaim(computed, value, text));
  if (verdicts.includes('exact')) return 'exact';
  if (verdicts.includes('rounded')) return 'rounded';
  return 'wrong';
}

/** Drop a leading `(` or trailing `)` that prose put around an equation: `(20 - 4 = 16)`. */
function withoutStrayParentheses(side) {
  let result = side;
  const count = (character) => result.split(character).length - 1;
  while (result.startsWith('(') && count('(') > count(')')) result = result.slice(1).trim();
  while (result.endsWith(')') && count(')') > count('(')) result = result.slice(0, -1).trim();
  return result;
}

/**
 * Every arithmetic claim in `text`: GSM8K calculator annotations `<<expression=result>>` and
 * plain `a op b = c` chains whose sides are pure arithmetic. A chain glued to a word or to an
 * exponent (`x^2 = 4`, `2x = 10`) is skipped: it is algebra, not a checkable claim.
 *
 * @returns {{ expression: string, claimed: string, verdict: 'exact' | 'rounded' | 'wrong' }[]}
 */
export function arithmeticClaims(text) {
  const claims = [];
  const normalised = normaliseArithmetic(text);
  for (const match of normalised.matchAll(/<<([^<>]+)>>/g)) {
    const sides = match[1].split('=').map((part) => part.trim());
    for (let index = 0; index + 1 < sides.length; index += 1) {
      const verdict = judgeStep(sides[index], sides[index + 1]);
      if (verdict !== undefined) claims.push({ expression: sides[index], claimed: sides[index + 1], verdict });
    }
  }
  const withoutAnnotations = normalised.replace(/<<[^<>]*>>/g, ' ');
  for (const match of withoutAnnotations.matchAll(equationChain)) {
    const start = match.index ?? 0;
    const before = withoutAnnotations[start - 1] ?? ' ';
    const after = withoutAnnotations[start + match[0].length] ?? ' ';
    if (/[\w^.]/.test(before) || /[\w^]/.test(after)) continue;
    const sides = match[0].split('=').map((part) => withoutStrayParentheses(part.trim()));
    for (let index = 0; index + 1 < sides.length; index += 1) {
      const left = sides[index];
      // A bare number equal to a bare number says nothing; a claim needs an operator on the left.
      if (!/[-+*/%^]/.test(left.replace(/^-/, ''))) continue;
      const verdict = judgeStep(left, sides[index + 1]);
      if (verdict !== undefined) claims.push({ expression: left, claimed: sides[index + 1], verdict });
    }
  }
  return claims;
}

/**
 * The answer's final numeric claim, as GSM8K's format gives it (`#### N`) or, without the
 * marker, as RouteLLM's grader would read it (the last number in the text).
 */
export function finalAnswer(text) {
  const markers = [...text.matchAll(/####\s*\$?\s*(-?[\d,]*\.?\d+)/g)];
  const lastMarker = markers.at(-1);
  const numbers = text.match(numberPattern) ?? [];
  const lastNumberText = numbers.at(-1);
  return {
    markerCount: markers.length,
    markerValue: lastMarker === undefined ? undefined : parseNumber(lastMarker[1]),
    lastNumber: lastNumberText === undefined ? undefined : parseNumber(lastNumberText),
    textAfterMarker: lastMarker === undefined ? '' : text.slice((lastMarker.index ?? 0) + lastMarker[0].length).trim(),
  };
}

/** Words by which an answer admits doubt or bends the question. */
export const hedgePattern =
  /\b(however|approximately|approx|assum\w*|round(?:ed|ing)?|estimate\w*|not (?:possible|enough|clear|specified|given)|cannot|can't|impossible|unclear|ambiguous|actually|wait|mistake|re-?evaluate|let's re-?|recalculate)\b/gi;

/** Numbers written in the question (digits only), as values. */
export function questionNumbers(question) {
  return (question.match(numberPattern) ?? []).map((text) => parseNumber(text)).filter((value) => value !== undefined);
}
