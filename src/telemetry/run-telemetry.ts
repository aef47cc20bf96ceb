/**
 * OpenTelemetry traces and metrics for runs, model calls and tool calls, with the GenAI semantic
 * conventions. Off unless configured (`RunOptions.telemetry`); it depends only on
 * `@opentelemetry/api`, so whatever SDK and exporter the application registers receives them.
 *
 * Built from the run's events, so a replayed step is reported as replayed and nothing here can
 * change what a run does. Spans: `invoke_agent {agent}` for a run, `chat {model}` for each model
 * call (a child of its run), `execute_tool {tool}` for each tool call. Metrics:
 * `gen_ai.client.token.usage` and `gen_ai.client.operation.duration` (histograms), and
 * `hataraku.cost.usd` (a counter).
 */
import {
  type Attributes,
  type Context,
  context as contextApi,
  type Meter,
  metrics,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { RunEvent } from '../agent/events.js';
import { parseModelLabel } from '../models/model-label.js';

export interface TelemetryOptions {
  /** Tracer to use (default: the global tracer provider's `hataraku` tracer). */
  tracer?: Tracer;
  /** Meter to use (default: the global meter provider's `hataraku` meter). */
  meter?: Meter;
}

type Observer = (event: RunEvent) => void;

/** An event observer that reports a run (and the child runs whose events it sees) to OpenTelemetry. */
export function createRunTelemetry(options: TelemetryOptions = {}): Observer {
  const tracer = options.tracer ?? trace.getTracer('hataraku');
  const meter = options.meter ?? metrics.getMeter('hataraku');
  const tokenUsage = meter.createHistogram('gen_ai.client.token.usage', {
    description: 'Tokens used by model calls',
    unit: '{token}',
  });
  const duration = meter.createHistogram('gen_ai.client.operation.duration', {
    description: 'Duration of model calls and tool calls',
    unit: 's',
  });
  const cost = meter.createCounter('hataraku.cost.usd', { description: 'Cost of model calls', unit: 'USD' });
  const runs = new Map<string, { span: Span; context: Context; agentName: string }>();
  const steps = new Map<string, { span: Span; attributes: Attributes }>();
  const key = (runId: string, index: number) => `${runId}#${index}`;

  const startStep = (runId: string, index: number, name: string, attributes: Attributes) => {
    const parent = runs.get(runId);
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent?.context ?? contextApi.active());
    steps.set(key(runId, index), { span, attributes });
  };

  const observers: { [Type in RunEvent['type']]?: (event: Extract<RunEvent, { type: Type }>) => void } = {
    'run-start': (event) => {
      // A child run's span is a child of its parent's run span (child ids extend the parent's).
      const parentId = [...runs.keys()].find((id) => event.runId.startsWith(`${id}.`));
      const parent = parentId ? runs.get(parentId)?.context : contextApi.active();
      const span = tracer.startSpan(
        `invoke_agent ${event.agentName}`,
        {
          kind: SpanKind.INTERNAL,
          attributes: {
            'gen_ai.operation.name': 'invoke_agent',
            'gen_ai.agent.name': event.agentName,
            'gen_ai.request.model': event.model,
            'hataraku.run.id': event.runId,
            'hataraku.run.resumed': event.resumed,
          },
        },
        parent,
      );
      runs.set(event.runId, {
        span,
        context: trace.setSpan(parent ?? contextApi.active(), span),
        agentName: event.agentName,
      });
    },
    'step-start': (event) => {
      if (event.kind !== 'model' || steps.has(key(event.runId, event.index))) return;
      startStep(event.runId, event.index, 'chat', {
        'gen_ai.operation.name': 'chat',
        'hataraku.run.id': event.runId,
        'hataraku.step.index': event.index,
        'hataraku.step.replayed': event.replayed,
      });
    },
    usage: (event) => {
      const step = steps.get(key(event.runId, event.stepIndex));
      const { provider, modelId } = parseModelLabel(event.model);
      const attributes: Attributes = {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': provider,
        'gen_ai.request.model': modelId,
      };
      step?.span.updateName(`chat ${modelId}`);
      step?.span.setAttributes({
        ...attributes,
        ...(event.usage.inputTokens !== undefined ? { 'gen_ai.usage.input_tokens': event.usage.inputTokens } : {}),
        ...(event.usage.outputTokens !== undefined ? { 'gen_ai.usage.output_tokens': event.usage.outputTokens } : {}),
        ...(event.costUsd !== undefined ? { 'hataraku.cost.usd': event.costUsd } : {}),
      });
      if (step) step.attributes = { ...step.attributes, ...attributes };
      if (event.usage.inputTokens !== undefined)
        tokenUsage.record(event.usage.inputTokens, { ...attributes, 'gen_ai.token.type': 'input' });
      if (event.usage.outputTokens !== undefined)
        tokenUsage.record(event.usage.outputTokens, { ...attributes, 'gen_ai.token.type': 'output' });
      if (event.costUsd !== undefined) cost.add(event.costUsd, attributes);
    },
    'tool-call-start': (event) => {
      if (steps.has(key(event.runId, event.stepIndex))) return;
      startStep(event.runId, event.stepIndex, `execute_tool ${event.toolName}`, {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': event.toolName,
        'gen_ai.tool.call.id': event.toolCallId,
        'hataraku.run.id': event.runId,
        'hataraku.step.index': event.stepIndex,
        'hataraku.step.replayed': event.replayed,
      });
    },
    'tool-call-end': (event) => {
      const step = steps.get(key(event.runId, event.stepIndex));
      if (event.isError) step?.span.setStatus({ code: SpanStatusCode.ERROR, message: 'the tool call failed' });
    },
    'step-end': (event) => {
      const step = steps.get(key(event.runId, event.index));
      if (!step) return;
      steps.delete(key(event.runId, event.index));
      duration.record(event.durationMs / 1000, step.attributes);
      step.span.end();
    },
    'run-end': (event) => {
      const run = runs.get(event.runId);
      if (!run) return;
      runs.delete(event.runId);
      // Steps left open (a failure mid-step) end with the run.
      for (const [stepKey, step] of steps) {
        if (!stepKey.startsWith(`${event.runId}#`)) continue;
        step.span.setStatus({ code: SpanStatusCode.ERROR, message: event.error ?? 'the run ended during this step' });
        step.span.end();
        steps.delete(stepKey);
      }
      run.span.setAttributes({
        'hataraku.run.status': event.status,
        'hataraku.run.stop_reason': event.stopReason,
        'gen_ai.usage.input_tokens': event.totals.inputTokens,
        'gen_ai.usage.output_tokens': event.totals.outputTokens,
        'hataraku.cost.usd': event.totals.costUsd,
      });
      if (event.status === 'failed')
        run.span.setStatus({ code: SpanStatusCode.ERROR, message: event.error ?? event.stopReason });
      run.span.end();
    },
  };
  return (event) => {
    const observe = observers[event.type] as ((event: RunEvent) => void) | undefined;
    observe?.(event);
  };
}
