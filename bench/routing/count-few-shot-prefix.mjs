/**
 * Recomputes the token count of the 8-shot prefix that RouteLLM put in front of every GSM8K
 * question when it generated `gsm8k_responses.csv`. The CSV holds only the bare question, but
 * the models were billed for the whole user message, so the benchmark adds this count to every
 * prompt (see `few-shot-prefix.mjs`). The prefix is not bundled here: it is the first eight
 * records of GSM8K's train split, which this script reads from a file you supply.
 *
 * Usage: node bench/routing/count-few-shot-prefix.mjs path/to/gsm8k/train.jsonl
 * (openai/grade-school-math, grade_school_math/data/train.jsonl; RouteLLM's
 * routellm/evals/gsm8k/train.jsonl is the same file.)
 */
import { readFileSync } from 'node:fs';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { fewShotExampleCount, fewShotPrefixTokens, questionMessage } from './few-shot-prefix.mjs';

const path = process.argv[2];
if (path === undefined) {
  console.error('usage: node bench/routing/count-few-shot-prefix.mjs path/to/gsm8k/train.jsonl');
  process.exit(2);
}
const examples = readFileSync(path, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.startsWith('#'))
  .slice(0, fewShotExampleCount)
  .map((line) => JSON.parse(line));
// RouteLLM's generate_responses.py: "Question: " + question + "\nAnswer: " + answer, each example
// followed by a blank line, then the test question without its answer.
const prefix = examples.map((example) => `Question: ${example.question}\nAnswer: ${example.answer}\n\n`).join('');
const prefixTokens = encode(prefix).length;
// BPE counts add up across the boundary only if no token spans it; check on a real question.
const sampleQuestion = 'Janet has 3 apples and buys 4 more. How many apples does she have?';
const whole = encode(prefix + questionMessage(sampleQuestion)).length;
const parts = prefixTokens + encode(questionMessage(sampleQuestion)).length;
console.log(`prefix: ${prefix.length} characters, ${prefixTokens} cl100k_base tokens`);
console.log(
  `boundary check: whole ${whole} tokens, prefix + question ${parts} tokens (${whole === parts ? 'equal' : 'DIFFERENT'})`,
);
console.log(
  `constant in few-shot-prefix.mjs: ${fewShotPrefixTokens} (${fewShotPrefixTokens === prefixTokens ? 'matches' : 'DOES NOT MATCH'})`,
);
process.exitCode = fewShotPrefixTokens === prefixTokens && whole === parts ? 0 : 1;
