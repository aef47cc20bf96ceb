/**
 * The restock example: an agent that uses an OpenAPI service (a supplier's catalog and orders)
 * and an MCP server (the warehouse inventory) together: it finds the items below their reorder
 * point, checks prices, places purchase orders, records the incoming stock, and writes
 * restock.md. The supplier runs locally for the example (`supplier-service.ts`); the inventory
 * server is `examples/restock/inventory-mcp-server.mjs`, started in the run's workspace.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectorsConfig } from '../config/connectors-settings.js';
import { openConnectors } from '../connectors/connectors.js';
import { workspaceFileTools } from '../toolchain/files/workspace-files.js';
import type { ExampleDefinition, ExampleServices } from './example-definition.js';
import { startSupplierService } from './supplier-service.js';

/** `examples/restock` in the package: `../../examples` from both src/examples and dist/examples. */
export const restockDirectory = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'restock');

export const restockInstructions = [
  'You are Hataraku, an agent that completes the task you are given, working in a workspace directory.',
  'The inventory.* tools reach the warehouse inventory (an MCP server); the supplier.* tools reach the supplier API.',
  'Work step by step. When the task is done, reply with a short final answer saying what you did and where the results are.',
].join('\n');

/** The connectors of the example, for a supplier at `supplierBaseURL` and an inventory in `workspace`. */
export function restockConnectors(supplierBaseURL: string, workspace: string): ConnectorsConfig {
  const supplierHost = new URL(supplierBaseURL);
  return {
    mcp: [
      {
        name: 'inventory',
        transport: 'stdio',
        command: process.execPath,
        args: [join(restockDirectory, 'inventory-mcp-server.mjs')],
        env: {},
        cwd: workspace,
        url: undefined,
        headers: {},
        secretValues: [],
        timeoutMs: 30_000,
        destructive: 'ask',
        include: undefined,
        exclude: undefined,
      },
    ],
    openapi: [
      {
        name: 'supplier',
        spec: join(restockDirectory, 'supplier.openapi.yaml'),
        baseURL: supplierBaseURL,
        auth: undefined,
        include: undefined,
        exclude: undefined,
        timeoutMs: 30_000,
        maxResponseBytes: 1_000_000,
        allowedPrivateAddresses: [`${supplierHost.hostname}:${supplierHost.port}`],
      },
    ],
    // The local supplier takes orders without asking; a real supplier's host would not be listed,
    // so each order would wait for a person's approval.
    writeHosts: [supplierHost.hostname],
  };
}

export function restockExample(): ExampleDefinition {
  return {
    name: 'restock',
    description: 'Reorder low stock: an MCP inventory server and an OpenAPI supplier API used together.',
    task: 'Check the warehouse inventory. For every item whose units on hand are below its reorder point, look up the supplier price, place a purchase order for its reorder quantity, and record the order as incoming stock. Then write restock.md listing each order (SKU, quantity, order id, total in USD) and the grand total.',
    instructions: restockInstructions,
    tools: workspaceFileTools(),
    limits: { maxSteps: 16 },
    workspaceSource: join(restockDirectory, 'workspace'),
    demoModelPath: join(restockDirectory, 'demo-model.json'),
    expectedOutputs: ['restock.md'],
    async startServices(workspace: string): Promise<ExampleServices> {
      const supplier = await startSupplierService();
      const connectors = openConnectors(restockConnectors(supplier.baseURL, workspace));
      try {
        const loaded = await connectors.loadAll();
        return {
          tools: loaded.tools.map((entry) => entry.tool),
          policies: loaded.policies,
          async close() {
            await connectors.close();
            await supplier.close();
          },
        };
      } catch (error) {
        await connectors.close();
        await supplier.close();
        throw error;
      }
    },
  };
}
