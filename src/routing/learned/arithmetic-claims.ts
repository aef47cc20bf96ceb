/**
 * Arithmetic claims written in an answer (`12 * 4 = 48`, calculator annotations
 * `<<12*4=48>>`), each re-computed and judged. Whatever the data set, a false calculation in
 * the working is strong evidence of a wrong answer, so this is one of the verifier's signals.
 *
 * Expressions are evaluated by a small recursive-descent parser over numbers, + - * / ^ ( )
 * and postfix %, never by `eval`.
 */

/** How a written result states the computed one. */
export type ClaimVerdict = 'exact' | 'rounded' | 'wrong';

export interface ArithmeticClaim {
  expression: string;
  claimed: string;
  verdict: ClaimVerdict;
}

const numberText = String.raw`(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+`;
/** Numbers as written in prose: `12,500.5`, `-3`, `.4`. */
export const numberPattern = /-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+/g;

/** Parse `12,500.5` or `.4` into a number; undefined for anything else. */
export function parseNumber(text: string): number | undefined {
  const cleaned = text.replace(/,/g, '');
  if (!/^-?(\d+(\.\d+)?|\.\d+)$/.test(cleaned)) return undefined;
  return Number(cleaned);
}

/** Every number written in `text`, as values. */
export function numbersIn(text: string): number[] {
  return (text.match(numberPattern) ?? []).map(parseNumber).filter((value) => value !== undefined);
}

/**
 * Evaluate an arithmetic expression of numbers, + - * / ^ ( ) and postfix % (as /100).
 * Undefined when the text is not such an expression or divides by zero.
 */
export function evaluateArithmetic(text: string): number | undefined {
  const source = text.replace(/\*\*/g, '^');
  const tokens = source.match(/(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+|[-+*/()%^]/g);
  if (tokens === null || tokens.length > maxExpressionTokens || tokens.join('') !== source.replace(/\s+/g, '')) {
    return undefined;
  }
  let position = 0;
  const peek = (): string | undefined => tokens[position];
  const take = (): string | undefined => tokens[position++];
  const expression = (): number | undefined => {
    let value = term();
    while (peek() === '+' || peek() === '-') {
      const operator = take();
      const right = term();
      if (value === undefined || right === undefined) return undefined;
      value = operator === '+' ? value + right : value - right;
    }
    return value;
  };
  const term = (): number | undefined => {
    let value = factor();
    while (peek() === '*' || peek() === '/') {
      const operator = take();
      const right = factor();
      if (value === undefined || right === undefined) return undefined;
      if (operator === '/' && right === 0) return undefined;
      value = operator === '*' ? value * right : value / right;
    }
    return value;
  };
  const factor = (): number | undefined => {
    const base = unary();
    if (peek() !== '^') return base;
    take();
    const exponent = factor();
    if (base === undefined || exponent === undefined) return undefined;
    return base ** exponent;
  };
  const unary = (): number | undefined => {
    const token = take();
    let value: number | undefined;
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
  };
  const value = expression();
  if (position !== tokens.length || value === undefined || !Number.isFinite(value)) return undefined;
  return value;
}

/**
 * How `claimed` (written as `claimedText`) states `computed`: `exact` (equal, or equal after
 * rounding to the decimals shown), `rounded` (an integer within one of a non-integer result, a
 * deliberate floor or ceiling), or `wrong`.
 */
export function judgeClaim(computed: number, claimed: number, claimedText: string): ClaimVerdict {
  if (Math.abs(computed - claimed) <= 1e-9 * Math.max(1, Math.abs(computed))) return 'exact';
  const decimals = (claimedText.split('.')[1] ?? '').replace(/\D/g, '').length;
  if (decimals > 0 && Math.abs(computed - claimed) <= 10 ** -decimals / 2 + 1e-9) return 'exact';
  if (Number.isInteger(claimed) && !Number.isInteger(computed) && Math.abs(computed - claimed) < 1) return 'rounded';
  return 'wrong';
}

/** Normalise the ways models write arithmetic: `\*`, `×`, `x` between numbers, `$`, `−`. */
function normaliseArithmetic(text: string): string {
  return text
    .replace(/\\\*/g, '*')
    .replace(/[×·]/g, '*')
    .replace(/[−–]/g, '-')
    .replace(/÷/g, '/')
    .replace(/(\d[\d,.%]{0,40})\s*[xX]\s*(?=[$(]?\s*\d)/g, '$1 * ')
    .replace(/\$/g, '');
}

// Every repetition is bounded: the text is a model's (hostile) answer, and an unbounded chain
// that finds no `=` is tried again from each of its positions, each attempt as long as the chain
// (50,000 repetitions of ` - 1` took 8 s, and a digit run before an `x` as long again).
// Written working never comes near these bounds.
const operand = String.raw`(?:[-(]\s*){0,8}(?:${numberText})%?(?:\s*\)){0,8}`;
const side = String.raw`${operand}(?:\s*(?:[-+*/^]|\*\*)\s*${operand}){0,40}`;
const equationChain = new RegExp(`${side}(?:\\s*=\\s*${side}){1,8}`, 'g');

/** Longest expression evaluated, in tokens: deeper nesting would exhaust the stack. */
const maxExpressionTokens = 400;

/** Judge `left = right`, reading the right side as charitably as it allows. */
function judgeStep(left: string, right: string): ClaimVerdict | undefined {
  const computed = evaluateArithmetic(left);
  if (computed === undefined) return undefined;
  const readings: Array<[number, string]> = [];
  const rightValue = evaluateArithmetic(right);
  if (rightValue !== undefined) readings.push([rightValue, right]);
  const leading = right.match(new RegExp(`^(${numberText})(%?)`));
  if (leading?.[1] !== undefined) {
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

function withoutStrayParentheses(text: string): string {
  let result = text;
  const count = (character: string): number => result.split(character).length - 1;
  while (result.startsWith('(') && count('(') > count(')')) result = result.slice(1).trim();
  while (result.endsWith(')') && count(')') > count('(')) result = result.slice(0, -1).trim();
  return result;
}

/**
 * Every checkable arithmetic claim in `text`: calculator annotations `<<expression=result>>`
 * and plain `a op b = c` chains. A chain glued to a word (`2x = 10`) is algebra and skipped.
 */
export function arithmeticClaims(text: string): ArithmeticClaim[] {
  const claims: ArithmeticClaim[] = [];
  const normalised = normaliseArithmetic(text);
  const judgeSides = (sides: string[], needOperator: boolean): void => {
    for (let index = 0; index + 1 < sides.length; index += 1) {
      const left = sides[index] ?? '';
      const right = sides[index + 1] ?? '';
      if (needOperator && !/[-+*/%^]/.test(left.replace(/^-/, ''))) continue;
      const verdict = judgeStep(left, right);
      if (verdict !== undefined) claims.push({ expression: left, claimed: right, verdict });
    }
  };
  for (const match of normalised.matchAll(/<<([^<>]+)>>/g)) {
    judgeSides(
      (match[1] ?? '').split('=').map((part) => part.trim()),
      false,
    );
  }
  const withoutAnnotations = normalised.replace(/<<[^<>]*>>/g, ' ');
  for (const match of withoutAnnotations.matchAll(equationChain)) {
    const start = match.index ?? 0;
    const before = withoutAnnotations[start - 1] ?? ' ';
    const after = withoutAnnotations[start + match[0].length] ?? ' ';
    if (/[\w^.]/.test(before) || /[\w^]/.test(after)) continue;
    judgeSides(
      match[0].split('=').map((part) => withoutStrayParentheses(part.trim())),
      true,
    );
  }
  return claims;
}
