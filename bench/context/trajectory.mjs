/**
 * The scripted 50-step trajectory of the context benchmark: an agent auditing a quarter's sales
 * data reads files, searches and queries tables (49 tool calls: 12 large file reads of 20-80 KB,
 * 9 data-query results of 4-16 KB, 28 small results), then answers. The answer quotes twelve
 * facts, each of which appears in exactly one tool result, most of them deep inside a large one
 * (past any preview), so that the benchmark can check which strategies keep them reachable.
 *
 * Everything is generated from a fixed seed: the same trajectory on every run.
 */

/** A small seeded generator (mulberry32), so the trajectory is the same on every machine. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const regions = ['EMEA', 'APAC', 'NA-East', 'NA-West', 'LATAM'];
const services = ['billing', 'orders', 'payments', 'inventory', 'shipping'];

export const facts = [
  { id: 'F1', value: 'APAC q3 net revenue 4,213,557.20 EUR' },
  { id: 'F2', value: 'refund ratio EMEA 3.87 %' },
  { id: 'F3', value: 'duplicate invoice INV-2025-0913-4471' },
  { id: 'F4', value: 'payments p99 latency 2,941 ms on 2025-08-14' },
  { id: 'F5', value: 'SKU-88213 stock-out for 11 days' },
  { id: 'F6', value: 'FX rate override USD/EUR 0.9127 applied twice' },
  { id: 'F7', value: 'LATAM discount code SUMMER-X9 used 1,208 times' },
  { id: 'F8', value: 'orders service crash loop at 03:12:44 UTC' },
  { id: 'F9', value: 'NA-West tax misclassification on 317 orders' },
  { id: 'F10', value: 'chargeback total 96,410.05 EUR' },
  { id: 'F11', value: 'warehouse W-7 capacity 92 %' },
  { id: 'F12', value: 'reconciliation gap 18,230.44 EUR' },
];

export const systemPrompt = [
  'You are a careful financial operations auditor working inside a company workspace.',
  'You have tools to read, search and inspect files and to run read-only SQL over the data files.',
  'Work step by step: look at the data before drawing conclusions, prefer queries over reading whole files',
  'when the question is about aggregates, and read files by line range when they are long.',
  'Record every anomaly you find with the exact figures, identifiers and dates, because the final report',
  'must quote them exactly. Do not guess numbers. When a tool fails, read the error and correct the call.',
  'The final report lists each finding on its own line as "- <finding>", ordered by the step at which you found it,',
  'followed by a one-paragraph conclusion. Keep the report under 400 words. Currency is EUR unless stated.',
  'Never modify files. If something cannot be verified with the tools, say so in the report.',
].join(' ');

export const task =
  'Audit the Q3 2025 sales, refunds, payments and operations data in this workspace. Find every anomaly that ' +
  'affects revenue recognition, customer refunds, service reliability or stock, and write the audit report.';

function csvRows(next, count, startId) {
  const rows = ['order_id,region,sku,quantity,unit_price_eur,total_eur,status,created_at'];
  for (let index = 0; index < count; index++) {
    const quantity = 1 + Math.floor(next() * 20);
    const price = (5 + next() * 400).toFixed(2);
    const day = String(1 + Math.floor(next() * 28)).padStart(2, '0');
    const month = String(7 + Math.floor(next() * 3)).padStart(2, '0');
    rows.push(
      `ORD-${startId + index},${regions[Math.floor(next() * regions.length)]},SKU-${10000 + Math.floor(next() * 90000)},${quantity},${price},${(quantity * Number(price)).toFixed(2)},${next() < 0.06 ? 'refunded' : 'paid'},2025-${month}-${day}T${String(Math.floor(next() * 24)).padStart(2, '0')}:${String(Math.floor(next() * 60)).padStart(2, '0')}:00Z`,
    );
  }
  return rows;
}

function logLines(next, count) {
  const lines = [];
  for (let index = 0; index < count; index++) {
    const service = services[Math.floor(next() * services.length)];
    const level = next() < 0.08 ? 'WARN' : next() < 0.02 ? 'ERROR' : 'INFO';
    lines.push(
      `2025-08-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}T${String(Math.floor(next() * 24)).padStart(2, '0')}:${String(Math.floor(next() * 60)).padStart(2, '0')}:${String(Math.floor(next() * 60)).padStart(2, '0')}.${String(Math.floor(next() * 1000)).padStart(3, '0')}Z ${level} service=${service} request_id=${Math.floor(next() * 1e12).toString(16)} latency_ms=${Math.floor(next() * 900)} status=${next() < 0.97 ? 200 : 500}`,
    );
  }
  return lines;
}

function queryTable(next, count, columns) {
  const lines = [`| ${columns.join(' | ')} |`, `| ${columns.map(() => '---').join(' | ')} |`];
  for (let index = 0; index < count; index++) {
    lines.push(
      `| ${columns
        .map((_column, position) =>
          position === 0
            ? `${regions[index % regions.length]}-${Math.floor(index / regions.length) + 1}`
            : (next() * 100000).toFixed(2),
        )
        .join(' | ')} |`,
    );
  }
  lines.push(`(${count} rows)`);
  return lines;
}

/** Lines of text of about `characters`, built by `make`, with `factLine` at the relative `position`. */
function sized(characters, make, factLine, position) {
  const lines = [];
  let length = 0;
  let batch = 0;
  while (length < characters) {
    for (const line of make(batch++)) {
      lines.push(line);
      length += line.length + 1;
      if (length >= characters) break;
    }
  }
  if (factLine !== undefined) lines.splice(Math.floor(lines.length * position), 0, factLine);
  return lines.join('\n');
}

/**
 * The steps: for each of the 49 tool turns, the assistant's text, the tool call and the result
 * the tool returns; then the final answer.
 */
export function buildTrajectory() {
  const next = random(20250914);
  const big = new Set([2, 5, 8, 11, 14, 18, 22, 26, 30, 34, 38, 42]);
  const query = new Set([4, 10, 16, 20, 24, 28, 32, 40, 44]);
  // Which step's result holds which fact, and where in it (0 = first line, 1 = last).
  const factAt = new Map([
    [2, ['F1', 0.55]],
    [5, ['F2', 0.8]],
    [8, ['F3', 0.35]],
    [11, ['F4', 0.6]],
    [14, ['F5', 0.5]],
    [18, ['F6', 0.45]],
    [20, ['F7', 0.7]],
    [26, ['F8', 0.65]],
    [31, ['F9', 0.5]],
    [34, ['F10', 0.3]],
    [39, ['F11', 0.5]],
    [42, ['F12', 0.75]],
  ]);
  const steps = [];
  for (let step = 1; step <= 49; step++) {
    const placed = factAt.get(step);
    const fact = placed === undefined ? undefined : facts.find((candidate) => candidate.id === placed[0]);
    const factLine = fact === undefined ? undefined : `# auditor note: ${fact.value}`;
    const position = placed?.[1] ?? 0;
    let call;
    let result;
    if (big.has(step)) {
      const characters = 20_000 + Math.floor(next() * 60_000);
      if (step % 3 === 0) {
        const path = `logs/app-2025-08-${String(step).padStart(2, '0')}.log`;
        call = { name: 'files_read', arguments: { path } };
        result = sized(characters, () => logLines(next, 50), factLine, position);
      } else {
        const path = `data/orders-q3-part${step}.csv`;
        call = { name: 'files_read', arguments: { path } };
        let first = true;
        result = sized(
          characters,
          (batch) => {
            const rows = csvRows(next, 50, 100000 + step * 10000 + batch * 50);
            if (!first) rows.shift();
            first = false;
            return rows;
          },
          factLine,
          position,
        );
      }
    } else if (query.has(step)) {
      const characters = 4_000 + Math.floor(next() * 12_000);
      call = {
        name: 'data_query',
        arguments: {
          sql: `SELECT region, month, sum(total_eur) AS revenue, sum(refunds_eur) AS refunds, count(*) AS orders FROM 'data/orders-q3-part${step}.csv' GROUP BY ALL ORDER BY revenue DESC`,
        },
      };
      const rows = sized(
        characters,
        () => queryTable(next, 40, ['region_month', 'revenue', 'refunds', 'orders_x', 'avg_basket']).slice(2, -1),
        fact === undefined ? undefined : `| note | ${fact.value} | | | |`,
        position,
      );
      result = `| region_month | revenue | refunds | orders_x | avg_basket |\n| --- | --- | --- | --- | --- |\n${rows}`;
    } else {
      const kind = step % 3;
      if (kind === 0) {
        call = { name: 'files_search', arguments: { pattern: `anomal|mismatch|override|step${step}`, path: '.' } };
        const lines = Array.from(
          { length: 3 + Math.floor(next() * 12) },
          (_, index) =>
            `reports/notes-${step}.md:${10 + index * 7}: checked ${services[index % services.length]} totals, no mismatch in batch ${Math.floor(next() * 1000)}`,
        );
        if (fact !== undefined)
          lines.splice(Math.floor(lines.length * position), 0, `reports/notes-${step}.md:99: ${fact.value}`);
        result = lines.join('\n');
      } else if (kind === 1) {
        call = { name: 'data_describe', arguments: { path: `data/table-${step}.parquet` } };
        result = [
          `data/table-${step}.parquet: ${Math.floor(next() * 900000)} rows`,
          'columns: order_id VARCHAR, region VARCHAR, sku VARCHAR, quantity INTEGER, unit_price_eur DOUBLE, total_eur DOUBLE, status VARCHAR, created_at TIMESTAMP',
          ...(fact === undefined ? [] : [`comment: ${fact.value}`]),
        ].join('\n');
      } else {
        call = { name: 'files_stat', arguments: { path: `data/extract-${step}.csv` } };
        result = `data/extract-${step}.csv: file, ${Math.floor(next() * 5e6)} bytes, modified 2025-09-${String(1 + (step % 28)).padStart(2, '0')}T08:00:00Z`;
      }
    }
    steps.push({
      text: `Step ${step}: ${call.name === 'files_read' ? 'reading' : call.name === 'data_query' ? 'querying' : 'checking'} ${JSON.stringify(call.arguments).slice(0, 80)} to continue the audit.`,
      call: { id: `call_${String(step).padStart(2, '0')}`, ...call },
      result,
      fact: fact?.id,
    });
  }
  const answer = [
    'Audit report, Q3 2025:',
    ...facts.map((fact) => `- ${fact.value}`),
    'Conclusion: revenue recognition is affected by a duplicate invoice, a doubly applied FX override, a tax misclassification and a reconciliation gap; reliability and stock issues are listed above.',
  ].join('\n');
  return { steps, answer };
}
