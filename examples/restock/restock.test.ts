/**
 * The restock example with its scripted demo model: the MCP inventory server and the OpenAPI
 * supplier are real (a subprocess and an HTTP server on 127.0.0.1), used together in one run.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agent } from '../../src/agent/agent.js';
import { type RunResult, run } from '../../src/agent/run.js';
import { openConnectors } from '../../src/connectors/connectors.js';
import type { Engine, StepRecord } from '../../src/engine/engine.js';
import { openSqliteEngine } from '../../src/engine/sqlite/sqlite-engine.js';
import { restockConnectors, restockExample } from '../../src/examples/restock.js';
import { type SupplierService, startSupplierService } from '../../src/examples/supplier-service.js';
import { createScriptedModel } from '../../src/models/scripted/scripted-model.js';

const example = restockExample();
let parent: string;
let workspace: string;
let engine: Engine;
let supplier: SupplierService;
let closeConnectors: () => Promise<void>;
let result: RunResult;
let steps: StepRecord[];

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'hataraku-restock-'));
  workspace = join(parent, 'workspace');
  cpSync(example.workspaceSource, workspace, { recursive: true });
  engine = openSqliteEngine({ path: join(parent, 'journal.db') });
  supplier = await startSupplierService();
  const connectors = openConnectors(restockConnectors(supplier.baseURL, workspace));
  closeConnectors = () => connectors.close();
  const loaded = await connectors.loadAll();
  const worker = agent({
    name: example.name,
    instructions: example.instructions,
    model: createScriptedModel({ script: example.demoModelPath }),
    tools: [...example.tools, ...loaded.tools.map((entry) => entry.tool)],
    limits: example.limits,
    policies: loaded.policies,
  });
  result = await run(worker, example.task, { engine, workspace });
  steps = await engine.listSteps(result.runId);
}, 60_000);

afterAll(async () => {
  await closeConnectors();
  await supplier.close();
  await engine.close();
  rmSync(parent, { recursive: true, force: true });
});

describe('the restock example', () => {
  it('completes with the demo model', () => {
    expect(result.status).toBe('completed');
  });

  it('places one order per low item with the supplier, through the OpenAPI tools', () => {
    expect(supplier.orders).toEqual([
      { id: 'PO-LAMP-01-1', sku: 'LAMP-01', quantity: 20, totalUsd: 250 },
      { id: 'PO-CHAIR-03-1', sku: 'CHAIR-03', quantity: 8, totalUsd: 1160 },
    ]);
  });

  it('records the incoming stock through the MCP server, once per call', () => {
    const inventory = JSON.parse(readFileSync(join(workspace, 'inventory.json'), 'utf8')) as {
      items: Array<{ sku: string; incoming?: number; recorded?: string[] }>;
    };
    const bySku = new Map(inventory.items.map((item) => [item.sku, item]));
    expect(bySku.get('LAMP-01')?.incoming).toBe(20);
    expect(bySku.get('CHAIR-03')?.incoming).toBe(8);
    expect(bySku.get('DESK-02')?.incoming).toBeUndefined();
    expect(bySku.get('LAMP-01')?.recorded).toEqual([expect.stringMatching(new RegExp(`^${result.runId}:\\d+$`))]);
  });

  it('journals every connector call as a tool step and writes the report', () => {
    const toolSteps = steps.filter((step) => step.kind === 'tool').map((step) => step.name);
    expect(toolSteps).toEqual([
      'tool:inventory.inventory_levels',
      'tool:supplier.listProducts',
      'tool:supplier.createOrder',
      'tool:supplier.createOrder',
      'tool:inventory.record_incoming',
      'tool:inventory.record_incoming',
      'tool:files.write',
    ]);
    expect(readFileSync(join(workspace, 'restock.md'), 'utf8')).toContain('Grand total: **$1,410.00**');
  });
});
