/**
 * Live progress of a run on a terminal (steps, tool calls, tokens, running cost), or as JSON
 * lines with `--json`. Colour only when the stream is a TTY and NO_COLOR is not set.
 */
import type { RunEvent, RunTotalsSnapshot } from '../agent/events.js';

export interface ProgressOutput {
  write(text: string): void;
  isTTY?: boolean | undefined;
}

export type ProgressRenderer = (event: RunEvent) => void;

export function jsonLinesRenderer(output: ProgressOutput): ProgressRenderer {
  return (event) => output.write(`${JSON.stringify(event)}\n`);
}

export function terminalRenderer(
  output: ProgressOutput,
  env: Readonly<Record<string, string | undefined>>,
): ProgressRenderer {
  const colour = output.isTTY === true && env.NO_COLOR === undefined;
  const paint = (code: number, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  const dim = (text: string) => paint(2, text);
  let streamingText = false;
  const endText = () => {
    if (streamingText) output.write('\n');
    streamingText = false;
  };
  let modelSteps = 0;

  return (event) => {
    switch (event.type) {
      case 'run-start':
        output.write(
          `${paint(1, `▶ run ${event.runId}`)} ${dim(`agent ${event.agentName} · model ${event.model}${event.resumed ? ' · resuming' : ''}`)}\n`,
        );
        break;
      case 'step-start':
        if (event.kind === 'model') {
          modelSteps++;
          output.write(
            dim(
              `step ${event.index + 1} · model call ${modelSteps}${event.replayed ? ' (replayed from journal)' : ''}\n`,
            ),
          );
        }
        break;
      case 'text-delta':
        if (!streamingText) output.write('  ');
        streamingText = true;
        output.write(event.delta.replaceAll('\n', '\n  '));
        break;
      case 'tool-call-start':
        endText();
        output.write(
          `  ${paint(36, '⚙')} ${event.toolName} ${dim(truncate(JSON.stringify(event.input), 100))}${event.replayed ? dim(' (replayed)') : ''}\n`,
        );
        for (const repair of event.repairs) output.write(dim(`    repaired: ${repair}\n`));
        break;
      case 'tool-call-end':
        output.write(
          `  ${event.isError ? paint(31, '✗') : paint(32, '✓')} ${event.toolName} ${dim(`${event.durationMs} ms`)} ${dim(truncate(oneLine(String(event.output)), 100))}\n`,
        );
        break;
      case 'usage': {
        endText();
        const cost = event.costUsd === undefined ? 'cost unknown' : usd(event.costUsd);
        output.write(
          dim(
            `  tokens ${event.usage.inputTokens ?? '?'} in / ${event.usage.outputTokens ?? '?'} out · ${cost} · run total ${totalCost(event.totals)}\n`,
          ),
        );
        break;
      }
      case 'warning':
        endText();
        output.write(paint(33, `  warning: ${event.message}\n`));
        break;
      case 'step-end':
        break;
      case 'routing':
        endText();
        output.write(dim(`  ↪ routed to ${event.model}: ${event.reason}\n`));
        break;
      case 'approval-requested':
        endText();
        output.write(
          paint(
            33,
            `  ⏸ ${event.toolName} ${truncate(JSON.stringify(event.input), 80)} needs approval (${event.reason}); run \`hataraku runs approve ${event.runId}\` or \`hataraku runs deny ${event.runId} --reason "..."\`${event.deadline ? `; default at ${new Date(event.deadline).toISOString()}` : ''}\n`,
          ),
        );
        break;
      case 'plan-update':
        endText();
        output.write(
          dim(`  ☰ plan (${event.runId}): ${event.steps.map((step) => `${step.id} ${step.status}`).join(' · ')}\n`),
        );
        break;
      case 'run-end': {
        endText();
        const status = event.status === 'completed' ? paint(32, event.status) : paint(33, event.status);
        output.write(
          `${paint(1, '■')} ${status} ${dim(`(${event.stopReason}) · ${event.totals.modelCalls} model calls · ${event.totals.toolCalls} tool calls · ${event.totals.inputTokens + event.totals.outputTokens} tokens · ${totalCost(event.totals)}`)}\n`,
        );
        if (event.error) output.write(`${paint(31, event.error)}\n`);
        break;
      }
    }
  };
}

export function usd(amount: number): string {
  return `$${amount < 0.01 ? amount.toFixed(6) : amount.toFixed(4)}`;
}

export function totalCost(totals: RunTotalsSnapshot): string {
  if (totals.unpricedModelCalls > 0) {
    return `${usd(totals.costUsd)} + ${totals.unpricedModelCalls} call(s) of unknown price`;
  }
  return usd(totals.costUsd);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
