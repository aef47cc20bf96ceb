/**
 * Recording a gateway call in the journal, so the cost ledger, cost reports and tenant budgets
 * count it like any run's model call: one run of the agent `gateway` (tenant of the key) with
 * one model step carrying the call's ledger entries. It is written after the response is sent,
 * so it adds no latency to the call.
 */
import { createHash } from 'node:crypto';
import type { Engine, LedgerEntry } from '../../engine/engine.js';
import type { ModelResponse, Usage } from '../../models/spec.js';

export interface GatewayCall {
  id: string;
  model: string;
  tenant: string;
  keyName: string;
  requestText: string;
  text: string;
  toolCalls: ModelResponse['toolCalls'];
  usage: Usage;
  costUsd: number | undefined;
  ledger: LedgerEntry[];
  startedAt: number;
  finishedAt: number;
}

export async function recordGatewayCall(engine: Engine, call: GatewayCall): Promise<void> {
  await engine.createRun({
    id: call.id,
    agentName: 'gateway',
    model: call.model,
    input: '(an OpenAI-compatible gateway call)',
    spec: { gateway: true, key: call.keyName },
    tenant: call.tenant,
  });
  await engine.commitStep({
    runId: call.id,
    index: 0,
    name: 'model',
    kind: 'model',
    requestDigest: createHash('sha256').update(call.requestText).digest('hex'),
    output: {
      text: call.text,
      toolCalls: call.toolCalls.map((toolCall) => ({ ...toolCall })),
    },
    model: call.model,
    usage: call.usage,
    costUsd: call.costUsd,
    startedAt: call.startedAt,
    finishedAt: call.finishedAt,
    ledger: call.ledger,
  });
  await engine.finishRun(call.id, { status: 'completed', stopReason: 'final-answer', output: call.text });
}
