/**
 * Conformance of the OpenAPI connector over real, large public documents shipped in npm
 * packages (devDependencies): GitHub's REST API (`@octokit/openapi`, OpenAPI 3.0, ~1,100
 * operations), ReadMe's API and Bump.sh's Train Travel API (OpenAPI 3.1), the USPTO API
 * (OpenAPI 3.0) and the Swagger Petstore (Swagger 2.0), from `@readme/oas-examples`.
 *
 * For each: every operation is converted to a tool or listed with the reason it is not; then
 * one sampled call per converted operation is built by the connector (arguments sampled from
 * the tool's own input schema, checked by the tool's validator, turned into a request by the
 * connector) and sent to Stoplight Prism (`@stoplight/prism-cli`), a mock server started here
 * on 127.0.0.1 that validates requests against the document. The share Prism accepts is
 * printed and held to a floor. Security requirements are removed from the copy Prism serves:
 * credentials are covered by the connector's own tests, and this suite is about shapes.
 *
 * Run with `npm run test:conformance`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '../../tools/concurrency.js';
import { sampleArguments } from './__fixtures__/sample-arguments.js';
import { buildRequest } from './build-request.js';
import { parseOpenApiText } from './load-document.js';
import { createOpenApiTools } from './openapi-tools.js';
import { planOperations } from './operations.js';

const modules = fileURLToPath(new URL('../../../node_modules/', import.meta.url));
const prismCli = join(modules, '@stoplight/prism-cli/dist/index.js');

interface SpecCase {
  name: string;
  file: string;
  /** Least share of sampled calls Prism must accept (measured, then set a little below). */
  acceptanceFloor: number;
}

const specs: SpecCase[] = [
  { name: 'github', file: '@octokit/openapi/generated/api.github.com.json', acceptanceFloor: 0.9 },
  { name: 'readme', file: '@readme/oas-examples/3.1/json/readme.json', acceptanceFloor: 0.9 },
  { name: 'traintravel', file: '@readme/oas-examples/3.1/json/train-travel.json', acceptanceFloor: 0.9 },
  { name: 'uspto', file: '@readme/oas-examples/3.0/json/uspto.json', acceptanceFloor: 0.9 },
  { name: 'petstore2', file: '@readme/oas-examples/2.0/json/petstore.json', acceptanceFloor: 0.9 },
];

const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()));
    });
  });
}

/** Start Prism on `document` (security removed) and wait until it listens. */
async function startPrism(document: Record<string, unknown>): Promise<string> {
  const copy = stripSecurity(structuredClone(document));
  const file = join(mkdtempSync(join(tmpdir(), 'hataraku-prism-')), 'spec.json');
  writeFileSync(file, JSON.stringify(copy));
  const port = await freePort();
  const child = spawn(process.execPath, [prismCli, 'mock', '-h', '127.0.0.1', '-p', String(port), file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`Prism did not start:\n${output.slice(-2000)}`)), 110_000);
    const look = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
      if (/Prism is listening/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.on('exit', (code) => reject(new Error(`Prism exited (${code}):\n${output.slice(-2000)}`)));
  });
  return `http://127.0.0.1:${port}`;
}

function stripSecurity(document: Record<string, unknown>): Record<string, unknown> {
  delete document.security;
  for (const item of Object.values((document.paths ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const operation of Object.values(item)) {
      if (operation !== null && typeof operation === 'object' && !Array.isArray(operation)) {
        delete (operation as Record<string, unknown>).security;
      }
    }
  }
  return document;
}

type Verdict = { accepted: true } | { accepted: false; reason: string };

function judge(status: number, violationsHeader: string | null, body: string): Verdict {
  if (violationsHeader !== null) {
    if (!violationsHeader.startsWith('[')) {
      // Prism shortens a long list to a sentence; only a refused request is answered 422.
      if (status === 422) return { accepted: false, reason: violationsHeader };
    } else {
      const violations = JSON.parse(violationsHeader) as Array<{
        location: string[];
        severity: string;
        message: string;
      }>;
      const refused = violations.find(
        (violation) => violation.location[0] === 'request' && violation.severity === 'Error',
      );
      if (refused !== undefined) return { accepted: false, reason: refused.message };
    }
  }
  const prismError =
    /stoplight\.io\/prism\/errors#(NO_PATH_MATCHED_ERROR|NO_METHOD_MATCHED_ERROR|UNAUTHORIZED|UNPROCESSABLE_ENTITY|NOT_ACCEPTABLE|NO_SERVER_MATCHED_ERROR)/.exec(
      body,
    );
  if (prismError !== null) return { accepted: false, reason: `${status} ${prismError[1]}` };
  return { accepted: true };
}

describe('OpenAPI connector over real documents, checked by Prism', () => {
  for (const spec of specs) {
    const path = join(modules, spec.file);
    it.skipIf(!existsSync(path))(
      `${spec.name}: every operation converts or is listed; Prism accepts sampled calls`,
      async () => {
        const { document, sourceVersion } = parseOpenApiText(readFileSync(path, 'utf8'), spec.name);
        const baseURL = await startPrism(document);
        const set = await createOpenApiTools(
          {
            name: spec.name,
            spec: path,
            baseURL,
            auth: undefined,
            include: undefined,
            exclude: undefined,
            timeoutMs: 30_000,
            maxResponseBytes: 5_000_000,
            allowedPrivateAddresses: ['127.0.0.1'],
          },
          { document },
        );
        const plans = new Map(planOperations(document).operations.map((plan) => [plan.id, plan]));
        expect(set.tools.length + set.skipped.length).toBe(set.total);

        const outcomes = await mapWithConcurrency(set.tools, 6, async (entry) => {
          const plan = plans.get(entry.operation);
          if (plan === undefined)
            return { operation: entry.operation, verdict: { accepted: false, reason: 'no plan' } as Verdict };
          // Sampled from the document's schema, patterns included: the tool's own schema states
          // them in descriptions (for the model to read) and leaves checking them to the server.
          const args = sampleArguments(plan.inputSchema as Record<string, unknown>);
          const checked = entry.tool.validate(args);
          if (!checked.success) {
            return {
              operation: entry.operation,
              verdict: {
                accepted: false,
                reason: `sample fails own schema: ${JSON.stringify(checked.issues[0])}`,
              } as Verdict,
            };
          }
          const request = buildRequest(plan, checked.data as Record<string, unknown>, baseURL);
          const response = await fetch(request.url, {
            method: request.method,
            headers: request.headers,
            // Prism answers with the document's example responses, redirects to real hosts among them.
            redirect: 'manual',
            ...(request.body === undefined ? {} : { body: request.body }),
          });
          const body = await response.text();
          return {
            operation: entry.operation,
            verdict: judge(response.status, response.headers.get('sl-violations'), body),
          };
        });
        const accepted = outcomes.filter((outcome) => outcome.verdict.accepted).length;
        const share = outcomes.length === 0 ? 1 : accepted / outcomes.length;
        const lines = [
          `[openapi conformance] ${spec.name} (${spec.file}, source ${sourceVersion})`,
          `  converted: ${set.tools.length} / ${set.total} operations; not converted: ${set.skipped.length}`,
          ...set.skipped.map((skipped) => `    - ${skipped.operation}: ${skipped.reason}`),
          `  sampled calls accepted by Prism: ${accepted} / ${outcomes.length} (${(share * 100).toFixed(1)}%)`,
          ...outcomes
            .filter((outcome) => !outcome.verdict.accepted)
            .slice(0, 25)
            .map((outcome) => `    - ${outcome.operation}: ${(outcome.verdict as { reason: string }).reason}`),
        ];
        console.log(lines.join('\n'));
        expect(share).toBeGreaterThanOrEqual(spec.acceptanceFloor);
      },
      // GitHub's document takes Prism about 20 s to load, and its 1,200 calls a minute, on 2 cores.
      300_000,
    );
  }
});
