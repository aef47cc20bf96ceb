/**
 * The expense-audit example: total a CSV of expenses per category, flag those over $500, and
 * write summary.md, with the workspace file tools only.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workspaceFileTools } from '../toolchain/files/workspace-files.js';
import type { ExampleDefinition } from './example-definition.js';

/** `examples/expense-audit` in the package: `../../examples` from both src/examples and dist/examples. */
export const expenseAuditDirectory = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'examples',
  'expense-audit',
);

/** The agent's system prompt: examples sit below the CLI, so they do not borrow its prompt. */
export const expenseAuditInstructions = [
  'You are Hataraku, an agent that completes the task you are given, working in a workspace directory.',
  'Use the tools to look at and change files in the workspace; paths are relative to it.',
  'Work step by step. When the task is done, reply with a short final answer saying what you did and where the results are.',
].join('\n');

export function expenseAuditExample(): ExampleDefinition {
  return {
    name: 'expense-audit',
    description: 'Total a CSV of expenses per category, flag those over $500, and write summary.md.',
    task: 'Audit the expenses in expenses.csv: total the spending per category, list every expense over $500 as needing approval, and write the result as a Markdown report to summary.md.',
    instructions: expenseAuditInstructions,
    tools: workspaceFileTools(),
    limits: { maxSteps: 12 },
    workspaceSource: join(expenseAuditDirectory, 'workspace'),
    demoModelPath: join(expenseAuditDirectory, 'demo-model.json'),
    expectedOutputs: ['summary.md'],
  };
}
