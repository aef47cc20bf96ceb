/** The bundled examples, by name. `hataraku example [name]` runs one; `npm start` runs the first. */
import type { ExampleDefinition } from './example-definition.js';
import { expenseAuditExample } from './expense-audit.js';
import { quarterlyBriefExample } from './quarterly-brief.js';
import { restockExample } from './restock.js';
import { salesReportExample } from './sales-report.js';

export const examples: Readonly<Record<string, () => ExampleDefinition>> = {
  'sales-report': () => salesReportExample(),
  'expense-audit': () => expenseAuditExample(),
  restock: () => restockExample(),
  'quarterly-brief': () => quarterlyBriefExample(),
};

export const defaultExampleName = 'sales-report';

export type { ExampleDefinition, ExampleServices } from './example-definition.js';
