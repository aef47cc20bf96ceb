/**
 * Tool policies: for each tool call, allow it, deny it, or ask a person first. A policy can be
 * conditioned on the call's arguments, by a function or by a serialisable condition (which is
 * what `hataraku.config.json` can hold), e.g. ask when `amount > 100`:
 *
 * ```ts
 * policies: [{ tool: 'payments.send', action: 'ask', when: { path: 'amount', gt: 100 } }]
 * ```
 *
 * The first policy that matches a call decides; when none of the caller's matches, the tool's own
 * default policies decide (`decideToolCall`); a call no policy matches is allowed.
 */

export type PolicyAction = 'allow' | 'deny' | 'ask';

/** A condition on one argument, found by a dotted `path` (`amount`, `to.country`). */
export interface PolicyCondition {
  path: string;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: string | number | boolean | null;
  ne?: string | number | boolean | null;
  in?: Array<string | number | boolean>;
  /** A regular expression the value (as text) must match. */
  matches?: string;
}

export interface ToolPolicy {
  /** Tool name, or `*` for every tool. */
  tool: string;
  action: PolicyAction;
  /** Only calls whose input satisfies this; omitted: every call of the tool. */
  when?: PolicyCondition | ((input: unknown) => boolean);
  /**
   * Shown to the approver, and to the model on a denial. A function (built-in policies only; a
   * config file holds text) words it from the call's input, e.g. to show where a request goes.
   */
  reason?: string | ((input: unknown) => string);
  /** For `ask`: milliseconds until the default outcome applies (omitted: no deadline). */
  deadlineMs?: number;
  /** For `ask`: what happens at the deadline (default `deny`). */
  defaultOutcome?: 'approve' | 'deny';
}

/**
 * A policy a tool carries for itself (`Tool.defaultPolicies`): the same fields without `tool`,
 * which is always the carrying tool's own name, so a tool can never set a policy for another.
 */
export type ToolDefaultPolicy = Omit<ToolPolicy, 'tool'>;

export interface PolicyDecision {
  action: PolicyAction;
  /** The matching policy; undefined when no policy matched (allowed by default). */
  policy: ToolPolicy | undefined;
  /** Why, in words. */
  reason: string;
}

export function evaluatePolicies(policies: readonly ToolPolicy[], toolName: string, input: unknown): PolicyDecision {
  for (const policy of policies) {
    if (policy.tool !== '*' && policy.tool !== toolName) continue;
    if (policy.when !== undefined && !matches(policy.when, input)) continue;
    const reason = typeof policy.reason === 'function' ? policy.reason(input) : policy.reason;
    return { action: policy.action, policy, reason: reason ?? describe(policy) };
  }
  return { action: 'allow', policy: undefined, reason: 'no policy applies' };
}

/**
 * The decision for a call of `tool`: the caller's `policies` first; when none of them matches,
 * the tool's own `defaultPolicies` (e.g. `http.request` asks before sending data out). A caller
 * policy that matches the call, `*` included, always wins over the tool's default.
 */
export function decideToolCall(
  policies: readonly ToolPolicy[],
  tool: { name: string; defaultPolicies?: readonly ToolDefaultPolicy[] | undefined },
  input: unknown,
): PolicyDecision {
  const decision = evaluatePolicies(policies, tool.name, input);
  if (decision.policy !== undefined || tool.defaultPolicies === undefined) return decision;
  const own = tool.defaultPolicies.map((policy) => ({ ...policy, tool: tool.name }));
  return evaluatePolicies(own, tool.name, input);
}

function matches(condition: PolicyCondition | ((input: unknown) => boolean), input: unknown): boolean {
  if (typeof condition === 'function') return condition(input);
  const value = valueAt(input, condition.path);
  const number = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (condition.gt !== undefined && !(number > condition.gt)) return false;
  if (condition.gte !== undefined && !(number >= condition.gte)) return false;
  if (condition.lt !== undefined && !(number < condition.lt)) return false;
  if (condition.lte !== undefined && !(number <= condition.lte)) return false;
  if (condition.eq !== undefined && value !== condition.eq) return false;
  if (condition.ne !== undefined && value === condition.ne) return false;
  if (condition.in !== undefined && !condition.in.includes(value as string | number | boolean)) return false;
  if (condition.matches !== undefined && !new RegExp(condition.matches).test(String(value ?? ''))) return false;
  return true;
}

function valueAt(input: unknown, path: string): unknown {
  let current = input;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function describe(policy: ToolPolicy): string {
  const scope = policy.tool === '*' ? 'every tool' : policy.tool;
  if (policy.when === undefined) return `policy: ${policy.action} ${scope}`;
  if (typeof policy.when === 'function') return `policy: ${policy.action} ${scope} when its condition holds`;
  const { path, ...tests } = policy.when;
  const words = Object.entries(tests)
    .map(([operator, operand]) => `${path} ${operatorWords[operator] ?? operator} ${JSON.stringify(operand)}`)
    .join(' and ');
  return `policy: ${policy.action} ${scope} when ${words}`;
}

const operatorWords: Record<string, string> = {
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  eq: '=',
  ne: '!=',
  in: 'in',
  matches: 'matches',
};
