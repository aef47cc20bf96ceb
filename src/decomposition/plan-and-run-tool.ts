/**
 * `plan_and_run`: plan, execute, check. The model writes a plan (steps with dependencies) as the
 * tool's arguments; the runtime runs it: steps whose dependencies are done run in parallel, each
 * as a child run (id `<run>.<step>.<plan step id>`), each step's task followed by the answers of
 * the steps it depends on. A step that fails skips the steps after it. A final check step (a
 * checker agent's child run) verifies the results against the goal. Progress is published as
 * `plan-update` events and is in the journal (the plan is the step's input; each step a child run).
 *
 * Re-planning is bounded: after a failed step or check the model may call the tool again with a
 * new plan, at most `maxReplans` times; the count comes from the journal, so a resumed run
 * counts the same. Re-running the call after a crash finds its children again by their ids.
 */
import type { Agent } from '../agent/agent.js';
import { type ChildRuns, ChildRunWaitingError, childRunsOf } from '../agent/child-runs.js';
import type { JsonValue } from '../models/spec.js';
import { WorkspacePathError } from '../toolchain/files/workspace-path.js';
import { tool } from '../tools/define-tool.js';
import type { Tool } from '../tools/tool.js';
import { agentNames } from './delegate-tool.js';
import { type DelegatedResult, runDelegatedTask } from './delegated-task.js';
import { type Plan, type PlanStep, planProblem, planSchema } from './plan.js';
import type { WorkspaceMode } from './workspace-view.js';

export interface PlanAndRunToolOptions {
  /** The agents plan steps can be given to. */
  agents: readonly Agent[];
  /**
   * Verifies the results against the goal. Its final answer must start with PASS or FAIL (or be
   * an object with a boolean `pass`). Without one, the plan ends when its steps have run.
   */
  checker?: Agent;
  /** How many times a plan may be run again after a failure (default 1). */
  maxReplans?: number;
  /** Each step's workspace (default `sub-folder`). */
  workspace?: WorkspaceMode;
}

type StepStatus = 'waiting' | 'running' | 'completed' | 'failed' | 'skipped';

const toolName = 'plan_and_run';

export function planAndRunTool(options: PlanAndRunToolOptions): Tool {
  const names = agentNames(options.agents, 'planAndRunTool()') as [string, ...string[]];
  const maxReplans = options.maxReplans ?? 1;
  if (!Number.isInteger(maxReplans) || maxReplans < 0) {
    throw new RangeError('planAndRunTool(): `maxReplans` must be a whole number of at least 0');
  }
  const byName = new Map(options.agents.map((agent) => [agent.name, agent]));
  const mode = options.workspace ?? 'sub-folder';
  return tool({
    name: toolName,
    description: [
      'Plan the task as steps and run the plan: each step is done by one agent in a run of its own; steps whose dependencies are done run in parallel, and a step gets the answers of the steps it depends on.',
      options.checker ? 'When the steps are done, a checker verifies the results against the goal.' : '',
      `If a step or the check fails you may call this again with a better plan, at most ${maxReplans} time(s). The agents:`,
      ...options.agents.map((agent) => `- ${agent.name}: ${agent.instructions.split('\n')[0]?.slice(0, 160) ?? ''}`),
    ]
      .filter(Boolean)
      .join('\n'),
    input: planSchema(names),
    effect: 'idempotent',
    async execute(plan, context) {
      const childRuns = childRunsOf(context.childRuns);
      if (!childRuns) throw new Error(`${toolName} works only inside a run (hataraku run or run()).`);
      const problem = planProblem(plan);
      if (problem !== undefined) throw new Error(`the plan is not sound: ${problem}`);
      const earlier = (await childRuns.engine.listSteps(childRuns.parentRunId)).filter(
        (step) =>
          step.name === `tool:${toolName}` &&
          step.index < context.stepIndex &&
          (step.output as { ok?: boolean }).ok === true,
      ).length;
      if (earlier > maxReplans) {
        throw new Error(
          `the plan was already run ${earlier} times, the most allowed; give your final answer with the results you have and say what is missing.`,
        );
      }
      const goal = (await childRuns.engine.getRun(childRuns.parentRunId))?.input ?? '';
      try {
        return await executePlan({
          plan,
          goal,
          attempt: earlier + 1,
          replansLeft: maxReplans - earlier,
          childRuns,
          stepIndex: context.stepIndex,
          byName,
          checker: options.checker,
          mode,
          parentWorkspace: context.workspace,
        });
      } catch (error) {
        if (error instanceof WorkspacePathError) throw new Error(`files: ${error.message}`);
        throw error;
      }
    },
  }) as unknown as Tool;
}

interface Execution {
  plan: Plan;
  goal: string;
  attempt: number;
  replansLeft: number;
  childRuns: ChildRuns;
  stepIndex: number;
  byName: Map<string, Agent>;
  checker: Agent | undefined;
  mode: WorkspaceMode;
  parentWorkspace: string | undefined;
}

async function executePlan(execution: Execution): Promise<JsonValue> {
  const { plan, childRuns, stepIndex } = execution;
  const status = new Map<string, StepStatus>(plan.steps.map((step) => [step.id, 'waiting']));
  const results = new Map<string, DelegatedResult>();
  const runIds = new Map<string, string>();
  const publish = () =>
    childRuns.publishPlan(
      stepIndex,
      [...plan.steps, ...(execution.checker ? [{ id: 'check' }] : [])].map((step) => ({
        id: step.id,
        status: status.get(step.id) ?? 'waiting',
        runId: runIds.get(step.id),
      })),
    );
  publish();

  const runStep = async (step: PlanStep) => {
    status.set(step.id, 'running');
    runIds.set(step.id, `${childRuns.parentRunId}.${stepIndex}.${step.id}`);
    publish();
    const inputs = step.dependsOn.map((dependency) => {
      const result = results.get(dependency);
      return `- ${dependency} (${result?.agent ?? ''}): ${answerText(result?.answer ?? null)}`;
    });
    let result: DelegatedResult;
    try {
      result = await runDelegatedTask(childRuns, {
        stepIndex,
        key: step.id,
        agent: execution.byName.get(step.agent) as Agent,
        task:
          inputs.length > 0
            ? `${step.task}\n\nResults of the steps this one builds on:\n${inputs.join('\n')}`
            : step.task,
        files: step.files,
        workspaceMode: execution.mode,
        parentWorkspace: execution.parentWorkspace,
      });
    } catch (error) {
      if (!(error instanceof Error) || error instanceof ChildRunWaitingError || error instanceof WorkspacePathError)
        throw error;
      result = failedResult(step, error);
    }
    results.set(step.id, result);
    status.set(step.id, result.status === 'completed' ? 'completed' : 'failed');
    publish();
  };

  // A step starts as soon as the steps it depends on are completed, while fewer than the
  // parent's concurrency run. Every started step is awaited, even when one waits for an
  // approval or fails: no child is left running behind the parent's back.
  const limit = Math.max(1, childRuns.concurrency);
  const running = new Set<Promise<void>>();
  const waiting: ChildRunWaitingError[] = [];
  let failure: { error: unknown } | undefined;
  const launch = () => {
    for (const step of plan.steps) {
      const blocked = step.dependsOn.some((dependency) => ['failed', 'skipped'].includes(status.get(dependency) ?? ''));
      if (status.get(step.id) === 'waiting' && blocked) status.set(step.id, 'skipped');
    }
    for (const step of plan.steps) {
      if (running.size >= limit) return;
      const ready = step.dependsOn.every((dependency) => status.get(dependency) === 'completed');
      if (status.get(step.id) !== 'waiting' || !ready) continue;
      const task: Promise<void> = runStep(step)
        .catch((error: unknown) => {
          if (error instanceof ChildRunWaitingError) waiting.push(error);
          else failure ??= { error };
        })
        .finally(() => running.delete(task));
      running.add(task);
    }
  };
  launch();
  while (running.size > 0) {
    await Promise.race(running);
    if (failure === undefined) launch();
  }
  if (failure !== undefined) throw failure.error;
  if (waiting.length > 0) {
    throw new ChildRunWaitingError(
      childRuns.parentRunId,
      waiting.flatMap((error) => error.approvals),
    );
  }
  publish();

  const failed = plan.steps.filter((step) => status.get(step.id) !== 'completed').map((step) => step.id);
  let check: { pass: boolean; notes: string; runId: string } | null = null;
  if (execution.checker && failed.length === 0) {
    status.set('check', 'running');
    runIds.set('check', `${childRuns.parentRunId}.${stepIndex}.check`);
    publish();
    const summary = plan.steps
      .map((step) => `- ${step.id} (${step.agent}): ${answerText(results.get(step.id)?.answer ?? null)}`)
      .join('\n');
    const checked = await runDelegatedTask(childRuns, {
      stepIndex,
      key: 'check',
      agent: execution.checker,
      task: `Check these results against the goal. Answer PASS or FAIL first, then why.\n\nGoal: ${execution.goal}\n\nResults:\n${summary}`,
      files: [],
      workspaceMode: 'shared',
      parentWorkspace: execution.parentWorkspace,
    });
    const verdict = verdictOf(checked.answer);
    check = { pass: checked.status === 'completed' && verdict.pass, notes: verdict.notes, runId: checked.runId };
    status.set('check', check.pass ? 'completed' : 'failed');
    publish();
  }
  const succeeded = failed.length === 0 && (check === null || check.pass);
  return {
    attempt: execution.attempt,
    status: succeeded ? 'done' : 'failed',
    steps: plan.steps.map((step) => {
      const result = results.get(step.id);
      return {
        id: step.id,
        agent: step.agent,
        status: status.get(step.id) ?? 'waiting',
        runId: result?.runId ?? null,
        answer: result?.answer ?? null,
        artifacts: result?.artifacts ?? [],
        costUsd: result?.costUsd ?? 0,
      };
    }),
    check,
    replansLeft: succeeded ? 0 : execution.replansLeft,
    next: succeeded
      ? 'Give your final answer from these results.'
      : execution.replansLeft > 0
        ? 'A step or the check failed: call plan_and_run again with a plan that fixes it, or give your final answer with what you have.'
        : 'A step or the check failed and no re-planning is left: give your final answer with what you have and say what is missing.',
  };
}

function failedResult(step: PlanStep, error: Error): DelegatedResult {
  return {
    agent: step.agent,
    runId: '',
    status: 'failed',
    stopReason: 'error',
    answer: error.message,
    artifacts: [],
    costUsd: 0,
    budgetUsd: null,
  };
}

function answerText(answer: JsonValue): string {
  return typeof answer === 'string' ? answer : JSON.stringify(answer);
}

/** The checker's verdict: text starting with PASS or FAIL, or an object with a boolean `pass`. */
export function verdictOf(answer: JsonValue): { pass: boolean; notes: string } {
  if (answer !== null && typeof answer === 'object' && !Array.isArray(answer) && typeof answer.pass === 'boolean') {
    return { pass: answer.pass, notes: answerText(answer.notes ?? '') };
  }
  const text = answerText(answer).trim();
  return { pass: /^pass\b/i.test(text), notes: text };
}
