/**
 * The restock example's supplier: a small HTTP service on 127.0.0.1 (a free port) that serves
 * what `examples/restock/supplier.openapi.yaml` describes: a product catalog and purchase
 * orders, where a repeated `Idempotency-Key` returns the first order instead of a second one.
 * It stands in for a supplier's real API so that the example runs anywhere without accounts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SupplierService {
  /** Base URL of the API, e.g. `http://127.0.0.1:43121/v1`. */
  baseURL: string;
  /** The orders placed, in order. */
  orders: Array<{ id: string; sku: string; quantity: number; totalUsd: number }>;
  close(): Promise<void>;
}

const catalog = [
  { sku: 'LAMP-01', unitPrice: 12.5, available: 140 },
  { sku: 'DESK-02', unitPrice: 310, available: 12 },
  { sku: 'CHAIR-03', unitPrice: 145, available: 30 },
];

export async function startSupplierService(): Promise<SupplierService> {
  const orders: SupplierService['orders'] = [];
  const byKey = new Map<string, SupplierService['orders'][number]>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const answer = (status: number, value: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(value));
      };
      if (request.method === 'GET' && url.pathname === '/v1/products') {
        const wanted = url.searchParams.get('sku')?.split(',');
        const products = catalog.filter((product) => wanted === undefined || wanted.includes(product.sku));
        answer(200, { products, next_cursor: null });
        return;
      }
      if (request.method === 'POST' && url.pathname === '/v1/orders') {
        let order: { sku?: unknown; quantity?: unknown };
        try {
          order = JSON.parse(body) as typeof order;
        } catch {
          answer(400, { message: 'the body must be JSON' });
          return;
        }
        const product = catalog.find((candidate) => candidate.sku === order.sku);
        if (product === undefined || typeof order.quantity !== 'number' || order.quantity < 1) {
          answer(422, { message: 'unknown sku or bad quantity' });
          return;
        }
        const key = request.headers['idempotency-key'];
        const previous = typeof key === 'string' ? byKey.get(key) : undefined;
        if (previous !== undefined) {
          answer(201, previous);
          return;
        }
        const placed = {
          id: `PO-${product.sku}-${orders.filter((entry) => entry.sku === product.sku).length + 1}`,
          sku: product.sku,
          quantity: order.quantity,
          totalUsd: Math.round(product.unitPrice * order.quantity * 100) / 100,
        };
        orders.push(placed);
        if (typeof key === 'string') byKey.set(key, placed);
        answer(201, placed);
        return;
      }
      answer(404, { message: `no route ${request.method} ${url.pathname}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    orders,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
