/** Read and validate a suite file (YAML or JSON) into an `EvalSuite`, with one-line errors. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../errors.js';
import { examples } from '../examples/index.js';
import { type EvalSuite, suiteSchema } from './suite-schema.js';

/** A loaded suite and the folder its relative paths start from. */
export interface LoadedSuite {
  suite: EvalSuite;
  path: string;
  directory: string;
}

/**
 * Load the suite at `path` (relative to `cwd`); a UserError names the file as given, the place
 * in it and what is expected.
 */
export function loadSuite(path: string, cwd: string = process.cwd()): LoadedSuite {
  const absolute = resolve(cwd, path);
  if (!existsSync(absolute) || !statSync(absolute).isFile()) {
    throw new UserError('usage', `eval suite ${path} not found; give the path of a .yaml or .json suite file.`);
  }
  const text = readFileSync(absolute, 'utf8');
  let raw: unknown;
  try {
    raw = /\.json$/i.test(absolute) ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new UserError('usage', `eval suite ${path} does not parse: ${reason}`);
  }
  const parsed = suiteSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(top level)';
    throw new UserError('usage', `eval suite ${path}: ${where}: ${issue?.message ?? 'invalid'}.`);
  }
  const suite = parsed.data;
  const directory = dirname(absolute);
  const seen = new Set<string>();
  suite.tasks.forEach((task, index) => {
    if (seen.has(task.id))
      throw new UserError('usage', `eval suite ${path}: tasks.${index}.id: "${task.id}" is used twice.`);
    seen.add(task.id);
    if (task.example !== undefined && examples[task.example] === undefined) {
      throw new UserError(
        'usage',
        `eval suite ${path}: tasks.${index}.example: no example named "${task.example}"; the examples are: ${Object.keys(examples).join(', ')}.`,
      );
    }
    for (const [field, value] of [
      ['workspace', task.workspace],
      ['demoModel', task.demoModel],
    ] as const) {
      if (value !== undefined && !existsSync(resolve(directory, value))) {
        throw new UserError(
          'usage',
          `eval suite ${path}: tasks.${index}.${field}: ${value} does not exist (paths are relative to the suite file).`,
        );
      }
    }
    for (const [checkIndex, check] of task.checks.entries()) {
      for (const pattern of [
        'regex' in check ? check.regex : undefined,
        'matches' in check ? check.matches : undefined,
      ]) {
        if (pattern === undefined) continue;
        try {
          new RegExp(pattern);
        } catch {
          throw new UserError(
            'usage',
            `eval suite ${path}: tasks.${index}.checks.${checkIndex}: ${JSON.stringify(pattern)} is not a valid regular expression.`,
          );
        }
      }
    }
  });
  return { suite, path: absolute, directory };
}
