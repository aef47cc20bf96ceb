/**
 * How OpenAI and Anthropic bill a sequence of requests with prompt caching, modelled from their
 * documented rules, so that each context strategy can be priced on the requests it would send.
 *
 * A request is a list of segments in the order the provider sees the prompt: first the stable
 * head (tool definitions and the system prompt), then one segment per message, each with a key
 * (equal keys = identical content) and its token count.
 *
 * OpenAI (automatic prompt caching): a prompt of at least 1,024 tokens is served from cache for
 * its longest prefix shared with an earlier request, counted in steps of 128 tokens after the
 * first 1,024. Cached tokens are billed at the cached-input rate. We compare with the previous
 * request only (as the issue asks); a real cache also keeps older prefixes for a few minutes,
 * so this is, if anything, conservative for strategies that rewrite old messages.
 *
 * Anthropic (explicit `cache_control` breakpoints, as Hataraku's adapter places them: after the
 * tools and system prompt, and on the last message block): a request reads from cache the longest
 * cached prefix it can find at a breakpoint or at a block boundary up to 20 blocks before the last
 * breakpoint; everything after that up to the last breakpoint is written to the cache (billed at
 * 1.25 times the input rate); cache reads are billed at 0.1 times. Prompts shorter than the
 * model's minimum cacheable length (1,024 tokens for Sonnet 4.5) are not cached. Entries are
 * assumed to live long enough (5 minutes, refreshed on every read) between the steps of a run.
 */
import { createHash } from 'node:crypto';

const openAiMinimumCachedTokens = 1024;
const openAiCacheIncrement = 128;
const anthropicLookbackBlocks = 20;

/**
 * Billed input of each request for OpenAI. `commonPrefixTokens(previous, current)` gives the
 * token length of the longest common prefix of two requests.
 */
export function openAiInputBilling(requests, commonPrefixTokens) {
  const billed = [];
  for (const [index, request] of requests.entries()) {
    let cached = 0;
    if (index > 0 && request.totalTokens >= openAiMinimumCachedTokens) {
      const shared = Math.min(commonPrefixTokens(requests[index - 1], request), request.totalTokens);
      if (shared >= openAiMinimumCachedTokens) {
        cached =
          openAiMinimumCachedTokens +
          Math.floor((shared - openAiMinimumCachedTokens) / openAiCacheIncrement) * openAiCacheIncrement;
      }
    }
    billed.push({ inputTokens: request.totalTokens, cachedInputTokens: cached, cacheWriteTokens: 0 });
  }
  return billed;
}

/** Billed input of each request for Anthropic, with breakpoints on the head and the last message. */
export function anthropicInputBilling(requests, minimumCacheableTokens = 1024) {
  /** Prefix digest → token length, for every prefix written to the cache so far. */
  const cache = new Map();
  const billed = [];
  for (const request of requests) {
    // Prefix digests and lengths at every segment boundary.
    const boundaries = [];
    let digest = '';
    let tokens = 0;
    let blocks = 0;
    for (const segment of request.segments) {
      digest = createHash('sha1').update(digest).update(segment.key).digest('hex');
      tokens += segment.tokens;
      blocks += segment.blocks;
      boundaries.push({ digest, tokens, blocks });
    }
    const last = boundaries.at(-1);
    const head = boundaries[0];
    let read = 0;
    for (const boundary of boundaries) {
      const reachable = boundary === head || last.blocks - boundary.blocks <= anthropicLookbackBlocks;
      if (reachable && cache.has(boundary.digest)) read = Math.max(read, boundary.tokens);
    }
    const total = request.totalTokens;
    let write = 0;
    if (last.tokens >= minimumCacheableTokens) {
      write = last.tokens - read;
      cache.set(last.digest, last.tokens);
      if (head.tokens >= minimumCacheableTokens) cache.set(head.digest, head.tokens);
    }
    billed.push({ inputTokens: total, cachedInputTokens: read, cacheWriteTokens: write });
  }
  return billed;
}
