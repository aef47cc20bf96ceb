/**
 * A plan as structured output: steps, each handed to one agent, with the steps it depends on.
 * Checked once at the edge (unique ids, known agents and dependencies, no cycle), then run by
 * `plan-and-run-tool.ts` in waves of steps whose dependencies are done.
 */
import { z } from 'zod';

export const planStepIdPattern = /^[a-z0-9][a-z0-9-]{0,39}$/;

export function planSchema(agentNames: [string, ...string[]]) {
  return z.object({
    steps: z
      .array(
        z.object({
          id: z.string().regex(planStepIdPattern).describe('Short id, e.g. "sales" (lowercase, digits, dashes).'),
          agent: z.enum(agentNames).describe('The agent that does the step.'),
          task: z.string().min(1).describe('What to do, self-contained: the agent sees nothing else.'),
          dependsOn: z
            .array(z.string())
            .default([])
            .describe('Ids of steps whose results this step needs; it starts when they are done.'),
          files: z.array(z.string()).default([]).describe('Workspace files or folders the step needs.'),
        }),
      )
      .min(1)
      .max(20),
  });
}

export type Plan = z.output<ReturnType<typeof planSchema>>;
export type PlanStep = Plan['steps'][number];

/** What is wrong with a plan's structure, as one line for the model; undefined when it is sound. */
export function planProblem(plan: Plan): string | undefined {
  const ids = new Set<string>();
  for (const step of plan.steps) {
    if (ids.has(step.id)) return `two steps have the id "${step.id}"; give each step its own id.`;
    ids.add(step.id);
  }
  for (const step of plan.steps) {
    for (const dependency of step.dependsOn) {
      if (!ids.has(dependency)) return `step "${step.id}" depends on "${dependency}", which is not a step of the plan.`;
      if (dependency === step.id) return `step "${step.id}" depends on itself.`;
    }
  }
  // Kahn's algorithm: whatever cannot be ordered is on a cycle.
  const done = new Set<string>();
  let progressed = true;
  while (progressed) {
    progressed = false;
    for (const step of plan.steps) {
      if (!done.has(step.id) && step.dependsOn.every((dependency) => done.has(dependency))) {
        done.add(step.id);
        progressed = true;
      }
    }
  }
  const cyclic = plan.steps.filter((step) => !done.has(step.id)).map((step) => step.id);
  return cyclic.length > 0 ? `steps ${cyclic.join(', ')} depend on each other in a cycle; break the cycle.` : undefined;
}
