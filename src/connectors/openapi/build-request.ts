/**
 * A tool call's arguments as an HTTP request for one operation: path parameters encoded into
 * the path (a value cannot add path segments or climb with `..`), query parameters serialised
 * by their style (`form`, `spaceDelimited`, `pipeDelimited`, `deepObject`), headers and cookies
 * as text, and the body as JSON, a form or text.
 */
import { ConnectorError } from '../connector-error.js';
import type { OperationPlan } from './operations.js';

export interface PlannedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** Query parameter name → argument name, for pagination hints. */
  queryArguments: Map<string, string>;
}

export function buildRequest(plan: OperationPlan, args: Record<string, unknown>, baseURL: string): PlannedRequest {
  let path = plan.path;
  const query: Array<[string, string]> = [];
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const queryArguments = new Map<string, string>();
  for (const parameter of plan.parameters) {
    const value = args[parameter.argument];
    if (parameter.in === 'query') queryArguments.set(parameter.name, parameter.argument);
    if (value === undefined) continue;
    if (parameter.in === 'path') {
      const text = parameter.json ? JSON.stringify(value) : simpleValue(value);
      if (text === '' || text === '.' || text === '..') {
        throw new ConnectorError(
          'connector_bad_result',
          `the path parameter ${parameter.argument} cannot be ${JSON.stringify(text)}; give the actual value.`,
        );
      }
      path = path.replaceAll(`{${parameter.name}}`, encodeURIComponent(text));
    } else if (parameter.in === 'query') {
      query.push(...queryPairs(parameter.name, value, parameter.style, parameter.explode, parameter.json));
    } else if (parameter.in === 'header') {
      headers[parameter.name.toLowerCase()] = (parameter.json ? JSON.stringify(value) : simpleValue(value)).replace(
        /[\r\n]/g,
        ' ',
      );
    } else {
      cookies.push(
        `${parameter.name}=${encodeURIComponent(parameter.json ? JSON.stringify(value) : simpleValue(value))}`,
      );
    }
  }
  if (cookies.length > 0) headers.cookie = cookies.join('; ');
  const base = baseURL.replace(/\/+$/, '');
  const url = new URL(`${base}${path.startsWith('/') ? path : `/${path}`}`);
  for (const [name, value] of query) url.searchParams.append(name, value);
  let body: string | undefined;
  if (plan.body !== undefined && args[plan.body.argument] !== undefined) {
    const value = args[plan.body.argument];
    const mediaType = plan.body.mediaType;
    if (mediaType === 'application/x-www-form-urlencoded') {
      const form = new URLSearchParams();
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const [name, entry] of Object.entries(value)) {
          if (Array.isArray(entry)) for (const item of entry) form.append(name, simpleValue(item));
          else if (entry !== undefined)
            form.append(name, typeof entry === 'object' ? JSON.stringify(entry) : String(entry));
        }
      }
      body = form.toString();
    } else if (mediaType.startsWith('text/')) {
      body = typeof value === 'string' ? value : JSON.stringify(value);
    } else {
      body = JSON.stringify(value);
    }
    headers['content-type'] = mediaType === '*/*' ? 'application/json' : mediaType;
  }
  headers.accept = acceptHeader(plan.accepts);
  return { method: plan.method, url: url.href, headers, body, queryArguments };
}

function simpleValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(simpleValue).join(',');
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .flatMap(([key, entry]) => [key, simpleValue(entry)])
      .join(',');
  }
  return String(value);
}

function queryPairs(
  name: string,
  value: unknown,
  style: string,
  explode: boolean,
  json: boolean,
): Array<[string, string]> {
  if (json) return [[name, JSON.stringify(value)]];
  if (Array.isArray(value)) {
    if (explode && style === 'form') return value.map((item) => [name, simpleValue(item)]);
    const separator = style === 'spaceDelimited' ? ' ' : style === 'pipeDelimited' ? '|' : ',';
    return [[name, value.map(simpleValue).join(separator)]];
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, entry]) => entry !== undefined);
    if (style === 'deepObject') return entries.map(([key, entry]) => [`${name}[${key}]`, simpleValue(entry)]);
    if (explode) return entries.map(([key, entry]) => [key, simpleValue(entry)]);
    return [[name, entries.flatMap(([key, entry]) => [key, simpleValue(entry)]).join(',')]];
  }
  return [[name, String(value)]];
}

function acceptHeader(types: string[]): string {
  if (types.length === 0) return 'application/json, */*;q=0.5';
  const json = types.filter((type) => /json/i.test(type));
  return [...new Set([...json, ...types])].slice(0, 6).join(', ');
}
