/**
 * The eval suite file: tasks, each with its input, its workspace files, the agent that does it
 * (a bundled example's, or instructions and tool groups), and the checks of its outcome. Written
 * as YAML or JSON; parsed here once, at the edge, into typed values.
 */
import { z } from 'zod';

const named = { name: z.string().min(1).optional() };

/** A check of a task's outcome. Each kind is an object with one distinguishing key. */
export const checkSchema = z.union(
  [
    z.strictObject({ ...named, exact: z.string(), caseSensitive: z.boolean().optional() }),
    z.strictObject({
      ...named,
      regex: z.string().min(1),
      flags: z
        .string()
        .regex(/^[imsu]*$/)
        .optional(),
    }),
    z.strictObject({
      ...named,
      number: z.number(),
      /** Absolute tolerance (default 0). */
      tolerance: z.number().nonnegative().optional(),
      /** Read the number from this answer field (JSON output) instead of the last number in the text. */
      field: z.string().min(1).optional(),
    }),
    z.strictObject({ ...named, jsonSchema: z.record(z.string(), z.unknown()) }),
    z.strictObject({
      ...named,
      file: z.string().min(1),
      contains: z.string().optional(),
      matches: z.string().optional(),
    }),
    z.strictObject({ ...named, sql: z.string().min(1) }),
    z.strictObject({ ...named, js: z.string().min(1) }),
    z.strictObject({ ...named, modelGraded: z.string().min(1) }),
  ],
  {
    error:
      'a check with one of: exact, regex, number, jsonSchema, file, sql, js, modelGraded (e.g. { "regex": "North" })',
  },
);

const limitsSchema = z.strictObject({
  maxSteps: z.number().int().positive().optional(),
  maxTokens: z.number().int().positive().optional(),
  maxCostUsd: z.number().positive().optional(),
  maxWallTimeMs: z.number().int().positive().optional(),
});

const toolGroupSchema = z.enum(['files', 'data', 'documents', 'charts', 'code']);

export const taskSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'lower-case letters, digits and dashes, e.g. "sales-report"' }),
    /** A bundled example (`sales-report`, `expense-audit`) gives the input, agent, workspace and demo model. */
    example: z.string().min(1).optional(),
    input: z.string().min(1).optional(),
    instructions: z.string().min(1).optional(),
    tools: z.array(toolGroupSchema).optional(),
    /** A folder copied into the run's workspace, relative to the suite file. */
    workspace: z.string().min(1).optional(),
    /** Files written into the run's workspace: path → content. */
    files: z.record(z.string(), z.string()).optional(),
    /** A scripted model for `--model demo`, relative to the suite file. */
    demoModel: z.string().min(1).optional(),
    limits: limitsSchema.optional(),
    checks: z.array(checkSchema).min(1, { error: 'at least one check' }),
  })
  .refine((task) => task.example !== undefined || task.input !== undefined, {
    error: 'a task needs "input" (or "example" to use a bundled example\'s task)',
  });

export const suiteSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  /** Limits for every task unless the task sets its own. */
  limits: limitsSchema.optional(),
  tasks: z.array(taskSchema).min(1, { error: 'at least one task' }),
});

export type EvalCheck = z.infer<typeof checkSchema>;
export type EvalTask = z.infer<typeof taskSchema>;
export type EvalSuite = z.infer<typeof suiteSchema>;
export type ToolGroupName = z.infer<typeof toolGroupSchema>;
