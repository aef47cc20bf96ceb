/**
 * Reading the Berkeley Function Calling Leaderboard (BFCL v4) corpus from `../shared/corpora/bfcl`.
 *
 * The corpus is real material nobody on this project wrote, so it lives outside the repository.
 * The conformance suite only runs when `../shared` exists; a missing corpus there is an error,
 * never a reason to skip, because a skipped suite would report green while checking nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the BFCL files sit: `../shared/corpora/bfcl` from the repository root. */
export const bfclDirectory = fileURLToPath(new URL('../../shared/corpora/bfcl/', import.meta.url));

/** The categories that come with ground-truth answers. */
export const answeredCategories = [
  'simple_python',
  'simple_javascript',
  'multiple',
  'parallel',
  'parallel_multiple',
] as const;

export type AnsweredCategory = (typeof answeredCategories)[number];

/** A category's questions are in this language's terms (JavaScript passes values as literals). */
export type BfclLanguage = 'python' | 'javascript';

export function categoryLanguage(category: AnsweredCategory): BfclLanguage {
  return category === 'simple_javascript' ? 'javascript' : 'python';
}

/** A BFCL parameter schema: JSON Schema-like, with Python or Java/JavaScript type names. */
export type BfclSchema = { [key: string]: unknown };

/** One function offered to the model. */
export interface BfclFunction {
  name: string;
  description: string;
  parameters: BfclSchema;
}

/** One question: its conversation turns and the functions on offer. */
export interface BfclEntry {
  id: string;
  question: Array<Array<{ role: string; content: string }>>;
  function: BfclFunction[];
}

/**
 * The accepted calls for one entry, in order: each is `{ functionName: { parameter: allowed } }`,
 * where `allowed` lists every accepted value and `""` among them means the parameter may be left
 * out. A dict value inside `allowed` again maps each key to its own list of allowed values.
 */
export interface BfclAnswer {
  id: string;
  ground_truth: Array<Record<string, Record<string, unknown[]>>>;
}

/** An entry with its answer, when the category has answers. */
export interface AnsweredEntry {
  entry: BfclEntry;
  answer: BfclAnswer;
}

/**
 * The folder of the corpus, checked to exist.
 *
 * @throws Error naming the path when the folder is missing: the suite must fail, not skip.
 */
export function requireBfclDirectory(): string {
  if (!existsSync(bfclDirectory)) {
    throw new Error(
      `BFCL corpus not found at ${bfclDirectory}: the conformance suite reads ../shared/corpora/bfcl relative to the repository root (run it only where ../shared exists)`,
    );
  }
  return bfclDirectory;
}

/** Read a JSON Lines file into its records. */
function readJsonLines<Record>(path: string): Record[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record);
}

/** The questions of one category, in file order. */
export function readEntries(category: AnsweredCategory | 'irrelevance'): BfclEntry[] {
  return readJsonLines<BfclEntry>(`${requireBfclDirectory()}BFCL_v4_${category}.json`);
}

/**
 * The questions of a category paired with their answers.
 *
 * @throws Error when an answer names an entry that is not in the question file.
 */
export function readAnsweredEntries(category: AnsweredCategory): AnsweredEntry[] {
  const entries = new Map(readEntries(category).map((entry) => [entry.id, entry]));
  const answers = readJsonLines<BfclAnswer>(`${requireBfclDirectory()}possible_answer/BFCL_v4_${category}.json`);
  return answers.map((answer) => {
    const entry = entries.get(answer.id);
    if (entry === undefined) throw new Error(`BFCL ${category}: answer ${answer.id} has no question`);
    return { entry, answer };
  });
}
