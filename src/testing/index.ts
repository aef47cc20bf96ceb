/**
 * `hataraku/testing`: what tests of agents need: the scripted model (replays a script of turns,
 * records the requests), fake OpenAI and Anthropic servers that speak the real wire format on
 * loopback, and a tiny local model file.
 */
export {
  type FakeAnthropicServer,
  sseEvent,
  startFakeAnthropicServer,
} from '../models/anthropic/fake-anthropic-server.js';
export { type TinyLlamaOptions, writeTinyLlama } from '../models/local/tiny-model/tiny-llama.js';
export {
  type FakeOpenAIServer,
  type FakeOpenAIServerOptions,
  type FakeReply,
  jsonReply,
  sseBody,
  startFakeOpenAIServer,
  streamReply,
} from '../models/openai/fake-openai-server.js';
export { createScriptedModel, type Script } from '../models/scripted/scripted-model.js';
