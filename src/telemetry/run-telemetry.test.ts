/**
 * A run reported to OpenTelemetry: real SDK tracer and meter providers with in-memory exporters
 * receive the run's span, its model calls and tool calls with the GenAI attributes, and the token,
 * duration and cost metrics. Without the option nothing is reported.
 */
import { trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agent } from '../agent/agent.js';
import { run } from '../agent/run.js';
import { openSqliteEngine } from '../engine/sqlite/sqlite-engine.js';
import { createScriptedModel } from '../models/scripted/scripted-model.js';
import { tool } from '../tools/define-tool.js';

function calculator() {
  const add = tool({
    name: 'add',
    description: 'Add.',
    input: z.object({ a: z.number(), b: z.number() }),
    execute: ({ a, b }) => a + b,
  });
  return agent({
    name: 'calculator',
    instructions: 'Use the tools.',
    model: createScriptedModel({
      script: {
        turns: [
          { toolCalls: [{ name: 'add', arguments: { a: 2, b: 3 } }], usage: { inputTokens: 40, outputTokens: 9 } },
          { text: '5', usage: { inputTokens: 60, outputTokens: 2 } },
        ],
      },
    }),
    tools: [add],
  });
}

describe('OpenTelemetry', () => {
  it('traces the run, its model calls and tool calls with GenAI attributes, and records the metrics', async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    const engine = openSqliteEngine({ path: ':memory:' });
    const result = await run(calculator(), 'What is 2 + 3?', {
      engine,
      telemetry: { tracer: tracerProvider.getTracer('test'), meter: meterProvider.getMeter('test') },
    });
    expect(result.status).toBe('completed');

    const finished = spans.getFinishedSpans();
    expect(finished.map((span) => span.name).sort()).toEqual(
      ['chat script', 'chat script', 'execute_tool add', 'invoke_agent calculator'].sort(),
    );
    const runSpan = finished.find((span) => span.name === 'invoke_agent calculator');
    const chats = finished.filter((span) => span.name.startsWith('chat '));
    const toolSpan = finished.find((span) => span.name === 'execute_tool add');
    expect(runSpan?.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_agent',
      'gen_ai.agent.name': 'calculator',
      'hataraku.run.id': result.runId,
      'hataraku.run.stop_reason': 'final-answer',
      'gen_ai.usage.input_tokens': 100,
      'gen_ai.usage.output_tokens': 11,
    });
    expect(chats[0]?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'scripted',
      'gen_ai.request.model': 'script',
      'gen_ai.usage.input_tokens': 40,
      'gen_ai.usage.output_tokens': 9,
    });
    expect(toolSpan?.attributes).toMatchObject({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'add' });
    // Every step is a child of the run's span, in the same trace.
    const runContext = runSpan?.spanContext();
    for (const span of [...chats, toolSpan]) {
      expect(span?.parentSpanContext?.spanId).toBe(runContext?.spanId);
      expect(span?.spanContext().traceId).toBe(runContext?.traceId);
    }

    await reader.forceFlush();
    const exported = metricExporter
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics));
    const names = exported.map((metric) => metric.descriptor.name);
    expect(names).toEqual(expect.arrayContaining(['gen_ai.client.token.usage', 'gen_ai.client.operation.duration']));
    const tokens = exported.find((metric) => metric.descriptor.name === 'gen_ai.client.token.usage');
    const sums = Object.fromEntries(
      (tokens?.dataPoints ?? []).map((point) => [
        String(point.attributes['gen_ai.token.type']),
        (point.value as { sum: number }).sum,
      ]),
    );
    expect(sums).toEqual({ input: 100, output: 11 });
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    await engine.close();
  });

  it('reports nothing unless configured, and to the global providers with `telemetry: {}`', async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    trace.setGlobalTracerProvider(tracerProvider);
    try {
      const engine = openSqliteEngine({ path: ':memory:' });
      await run(calculator(), 'What is 2 + 3?', { engine });
      expect(spans.getFinishedSpans()).toEqual([]);
      await run(calculator(), 'What is 2 + 3?', { engine, telemetry: {} });
      expect(spans.getFinishedSpans().map((span) => span.name)).toContain('invoke_agent calculator');
      await engine.close();
    } finally {
      trace.disable();
      await tracerProvider.shutdown();
    }
  });
});
