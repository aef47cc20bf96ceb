/**
 * The `self-consistency` route: sample the cheap model k times and keep its answer when enough
 * samples agree on it (read through the task's answer format); when they disagree, escalate to
 * the strong model. Agreement of independent samples is a confidence signal any provider gives,
 * with or without log-probabilities, and it does not depend on a data set's format.
 *
 * Every sample's usage is reported under the cheap model's name, so the ledger holds what the
 * samples cost. A first sample that calls tools is not a final answer: it is returned as it is,
 * without further samples.
 */
import { collectResponse } from '../models/collect-response.js';
import type { Model, ModelRequest, ModelResponse, ModelStreamEvent } from '../models/spec.js';
import { type AnswerFormat, checkAnswerFormat, extractAnswer } from './learned/answer-format.js';
import { sampleAgreement } from './learned/features.js';
import { checkRouteOptions, createUsageTally, modelLabel, routeProvider, routeTargets } from './routed-call.js';
import { canFallBack, describeFailure } from './upstream-failure.js';

/** Options of `createSelfConsistencyModel`. */
export interface SelfConsistencyModelOptions {
  /** Route name; the model is `route:<name>`. */
  name: string;
  /** The cheap model to sample and the strong model to escalate to. */
  models: [Model, Model];
  /** Samples of the cheap model, at least 2. */
  samples: number;
  /** Where the answer is in a response. */
  answerFormat: AnswerFormat;
  /** Share of samples that must agree on the most common answer (0–1), e.g. 0.67. */
  minAgreement: number;
  /** Temperature of the samples after the first (default 0.7); the first uses the request's. */
  temperature?: number;
}

/** Create a self-consistency route. Throws a TypeError naming a malformed option. */
export function createSelfConsistencyModel(options: SelfConsistencyModelOptions): Model {
  checkRouteOptions('createSelfConsistencyModel', options.name, options.models);
  if (options.models.length !== 2) {
    throw new TypeError(`createSelfConsistencyModel(${options.name}): models must be [cheap, strong].`);
  }
  if (!Number.isInteger(options.samples) || options.samples < 2) {
    throw new TypeError(`createSelfConsistencyModel(${options.name}): samples must be a whole number of at least 2.`);
  }
  if (!(options.minAgreement >= 0 && options.minAgreement <= 1)) {
    throw new TypeError(`createSelfConsistencyModel(${options.name}): minAgreement must be a share between 0 and 1.`);
  }
  checkAnswerFormat(options.answerFormat);
  const [cheap, strong] = options.models;
  const cheapLabel = modelLabel(cheap);
  const strongLabel = modelLabel(strong);

  async function* stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    const tally = createUsageTally();
    yield {
      type: 'routing',
      model: cheapLabel,
      reason: `self-consistency: sampling ${cheapLabel} ${options.samples} times`,
    };
    const samples: Array<{ response: ModelResponse; events: ModelStreamEvent[] }> = [];
    let escalation: string | undefined;
    for (let index = 0; index < options.samples; index += 1) {
      const sampleRequest = index === 0 ? request : { ...request, temperature: options.temperature ?? 0.7 };
      const events: ModelStreamEvent[] = [];
      try {
        const response = await collectResponse(cheap, sampleRequest, (event) => events.push(tally.pass(event, cheap)));
        samples.push({ response, events });
      } catch (error) {
        tally.endCall();
        for (const sample of samples) yield* spentOnly(sample.events);
        yield* spentOnly(events);
        if (!canFallBack(error)) throw error;
        escalation = `${cheapLabel} failed with ${describeFailure(error)}`;
        samples.length = 0;
        break;
      }
      tally.endCall();
      if (index === 0 && samples[0]?.response.toolCalls.length) {
        yield { type: 'routing', model: cheapLabel, reason: 'self-consistency: a tool call, not a final answer; kept' };
        yield* events;
        return;
      }
    }
    if (escalation === undefined) {
      const texts = samples.map((sample) => sample.response.text);
      const agreement = sampleAgreement(texts, options.answerFormat);
      const counts = new Map<string, number>();
      for (const text of texts) {
        const value = extractAnswer(text, options.answerFormat).value;
        if (value !== undefined) counts.set(value, (counts.get(value) ?? 0) + 1);
      }
      const majority = [...counts.entries()].sort((left, right) => right[1] - left[1])[0]?.[0];
      const share = `${Math.round(agreement * options.samples)} of ${options.samples} samples agree`;
      if (majority !== undefined && agreement >= options.minAgreement) {
        const chosen = samples.find(
          (sample) => extractAnswer(sample.response.text, options.answerFormat).value === majority,
        );
        yield {
          type: 'routing',
          model: cheapLabel,
          reason: `self-consistency: accepted ${cheapLabel}: ${share} on ${majority}`,
        };
        for (const sample of samples) {
          if (sample === chosen) yield* sample.events;
          else yield* spentOnly(sample.events);
        }
        return;
      }
      for (const sample of samples) yield* spentOnly(sample.events);
      escalation = `only ${share}${majority === undefined ? ' (no answer found)' : ''}`;
    }
    yield {
      type: 'routing',
      model: strongLabel,
      reason: `self-consistency: escalating to ${strongLabel}: ${escalation}`,
    };
    for await (const event of strong.stream(request)) yield tally.pass(event, strong);
    tally.endCall();
  }

  return {
    specificationVersion: 'v1',
    provider: routeProvider,
    modelId: options.name,
    routesTo: routeTargets([cheap, strong]),
    stream,
  };
}

/** Of a response that is not used, what still counts: its usage and any routing decisions. */
function spentOnly(events: readonly ModelStreamEvent[]): ModelStreamEvent[] {
  return events.filter((event) => event.type === 'usage' || event.type === 'routing');
}
