/**
 * Generates workspace/sales.csv, the example's synthetic sales data: one row per order line of
 * 2025, with seasonality, growth that differs by region, and discounts. A seeded generator makes
 * the file the same on every run; the committed file is its output, and the demo model's numbers
 * are computed from it. Run: node examples/sales-report/generate-sales.mjs [output path]
 * (default: workspace/sales.csv beside this script).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** mulberry32: a small seeded pseudo-random generator, so the data is the same every time. */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const random = seededRandom(20250101);
const pick = (weighted) => {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [value, weight] of weighted) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return weighted.at(-1)[0];
};

// Region: [weight of orders, monthly growth of the order rate].
const regions = [
  ['North America', 1.0, 0.01],
  ['Europe', 0.85, 0.015],
  ['Asia Pacific', 0.6, 0.045],
  ['Latin America', 0.35, 0.02],
];
// Product: [list price, weight, most units per order line].
const products = [
  ['Laptop Pro 14', 1499, 2, 6],
  ['Laptop Air 13', 1099, 3, 8],
  ['Monitor 27', 329, 4, 12],
  ['Docking Station', 189, 3, 15],
  ['Wireless Headset', 89, 4, 25],
];
// Seasonality by month (January = index 0): a spring lift, a summer lull, a strong Q4.
const season = [0.85, 0.8, 0.95, 1.0, 1.0, 0.9, 0.8, 0.85, 1.05, 1.1, 1.3, 1.45];

const lines = ['order_id,date,region,product,units,unit_price,revenue'];
let orderNumber = 100000;
for (let day = new Date(Date.UTC(2025, 0, 1)); day.getUTCFullYear() === 2025; day.setUTCDate(day.getUTCDate() + 1)) {
  const month = day.getUTCMonth();
  const weekend = day.getUTCDay() === 0 || day.getUTCDay() === 6;
  for (const [region, weight, growth] of regions) {
    const rate = weight * season[month] * (1 + growth) ** month * (weekend ? 0.4 : 1) * 1.25;
    // Orders this day in this region: the whole part of the rate, plus one more with the rest as chance.
    const orders = Math.floor(rate) + (random() < rate - Math.floor(rate) ? 1 : 0);
    for (let order = 0; order < orders; order++) {
      const [product, listPrice, , maxUnits] = pick(products.map((entry) => [entry, entry[2]]));
      const units = 1 + Math.floor(random() * random() * maxUnits);
      const discount = pick([
        [0, 6],
        [0.05, 3],
        [0.1, 1],
      ]);
      const unitPrice = Math.round(listPrice * (1 - discount) * 100) / 100;
      const revenue = Math.round(units * unitPrice * 100) / 100;
      orderNumber++;
      const date = day.toISOString().slice(0, 10);
      lines.push(
        `SO-${orderNumber},${date},${region},${product},${units},${unitPrice.toFixed(2)},${revenue.toFixed(2)}`,
      );
    }
  }
}
const target = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), 'workspace', 'sales.csv');
writeFileSync(target, `${lines.join('\n')}\n`);
console.log(`Wrote ${lines.length - 1} rows to ${target}`);
