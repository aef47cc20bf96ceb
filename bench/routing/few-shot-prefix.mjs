/**
 * What RouteLLM actually sent for each GSM8K question, as far as its generating script shows
 * (lm-sys/RouteLLM, routellm/evals/gsm8k/generate_responses.py, same at the CSV's commit
 * c2ad693 and at 0b64fda): one chat user message made of an 8-shot prefix (the first eight
 * train-split examples, each `Question: …\nAnswer: …` and a blank line) followed by
 * `Question: <question>\nAnswer:`, generated at temperature 0 with max_tokens 1024 and stop
 * ["Question"]. The CSV keeps only the bare question, so the prefix's size is a measured
 * constant here; `count-few-shot-prefix.mjs` recomputes it from GSM8K's train.jsonl.
 */

/** How many train examples RouteLLM put in front of each question (`k = 8`). */
export const fewShotExampleCount = 8;

/**
 * cl100k_base tokens of the 8-shot prefix: 3,789 characters, measured from the first eight
 * records of openai/grade-school-math grade_school_math/data/train.jsonl (commit 2a85729).
 */
export const fewShotPrefixTokens = 1127;

/** The part of the user message that follows the prefix, for one question. */
export function questionMessage(question) {
  return `Question: ${question}\nAnswer:`;
}
