/** Agents named in hataraku.config.json, as the server runs them. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluatePolicies } from '../agent/policy.js';
import { loadConfig } from '../config/load-config.js';
import { createAgentCatalog } from './agent-catalog.js';

function configWith(file: unknown) {
  const cwd = mkdtempSync(join(tmpdir(), 'hataraku-agents-'));
  writeFileSync(join(cwd, 'hataraku.config.json'), JSON.stringify(file));
  return () => loadConfig({ cwd, env: {} });
}

describe('the agent catalog', () => {
  it('builds configured agents with their tools, model and limits, next to the default agent', () => {
    const config = configWith({
      model: 'scripted:default.json',
      limits: { maxSteps: 7 },
      agents: {
        support: {
          description: 'Answers questions.',
          instructions: 'Answer from the files.',
          tools: ['files.read'],
          limits: { maxCostUsd: 0.5 },
        },
      },
    })();
    const catalog = createAgentCatalog(config);
    expect(catalog.names()).toEqual(['support', 'hataraku']);
    const support = catalog.get('support');
    expect(support).toMatchObject({
      name: 'support',
      instructions: 'Answer from the files.',
      model: 'scripted:default.json',
      limits: { maxSteps: 7, maxCostUsd: 0.5 },
    });
    expect(support.tools.map((tool) => tool.name)).toEqual(['files.read']);
    expect(catalog.describe('support')).toBe('Answers questions.');
    expect(catalog.get('hataraku').tools.length).toBeGreaterThan(1);
  });

  it('gives configured agents the built-in default policies after the configured ones', () => {
    const config = configWith({
      model: 'scripted:default.json',
      policies: [{ tool: 'files.write', action: 'deny' }],
      agents: { fetcher: { tools: ['http.request'] } },
    })();
    const fetcher = createAgentCatalog(config).get('fetcher');
    // A POST to a host off tools.http.sendAllowHosts asks, as it does for the default agent.
    const post = { method: 'POST', url: 'https://collector.example/upload', body: 'secret report' };
    expect(evaluatePolicies(fetcher.policies, 'http.request', post).action).toBe('ask');
    expect(
      evaluatePolicies(fetcher.policies, 'http.request', { method: 'GET', url: 'https://example.com/' }).action,
    ).toBe('allow');
    expect(evaluatePolicies(fetcher.policies, 'files.write', {}).action).toBe('deny');
  });

  it('says what is wrong with an agent: unknown name, tool not enabled, no model', () => {
    const catalog = createAgentCatalog(configWith({ agents: { bad: { tools: ['files.nope'] }, idle: {} } })());
    expect(() => catalog.get('nobody')).toThrow(/no agent named "nobody"; the agents are: bad, idle, hataraku/);
    expect(() => catalog.get('bad')).toThrow(/names tools that are not enabled: files.nope/);
    expect(() => catalog.get('idle')).toThrow(/agent "idle" has no model/);
  });

  it('reports a misspelt key of an agent in the config', () => {
    expect(configWith({ agents: { support: { instruction: 'x' } } })).toThrow(
      /unknown key in agents\.support: "instruction" \(did you mean "instructions"\?\)/,
    );
  });
});
