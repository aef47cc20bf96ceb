#!/usr/bin/env node
/**
 * The restock example's MCP server (stdio): the warehouse inventory kept in `inventory.json` in
 * its working folder. `inventory_levels` reads it (read-only); `record_incoming` adds an ordered
 * quantity as incoming stock (a write that deletes nothing, applied once per idempotency key).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const file = 'inventory.json';
const read = () => JSON.parse(readFileSync(file, 'utf8'));

const server = new McpServer({ name: 'warehouse-inventory', version: '1.0.0' });

server.registerTool(
  'inventory_levels',
  {
    description: 'Stock of every item: SKU, name, units on hand, units incoming, reorder point and reorder quantity.',
    inputSchema: {},
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  async () => {
    const items = read().items.map((item) => ({ incoming: 0, ...item }));
    return { content: [{ type: 'text', text: JSON.stringify(items) }], structuredContent: { items } };
  },
);

server.registerTool(
  'record_incoming',
  {
    description: 'Record units ordered from a supplier as incoming stock for an item, with the order id.',
    inputSchema: { sku: z.string(), quantity: z.number().int().positive(), orderId: z.string() },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  },
  async ({ sku, quantity, orderId }, extra) => {
    const inventory = read();
    const item = inventory.items.find((candidate) => candidate.sku === sku);
    if (item === undefined) return { content: [{ type: 'text', text: `no item with SKU ${sku}` }], isError: true };
    const key = extra._meta?.['hataraku/idempotency-key'] ?? orderId;
    item.recorded = item.recorded ?? [];
    if (!item.recorded.includes(key)) {
      item.incoming = (item.incoming ?? 0) + quantity;
      item.orders = [...(item.orders ?? []), orderId];
      item.recorded.push(key);
      writeFileSync(file, `${JSON.stringify(inventory, null, 2)}\n`);
    }
    return {
      content: [{ type: 'text', text: `${sku}: ${item.incoming} units incoming (orders ${item.orders.join(', ')})` }],
    };
  },
);

await server.connect(new StdioServerTransport());
