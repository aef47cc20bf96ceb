/** One model call as the loop makes it: streamed and assembled, and made again after a stream broke mid-way. */
import { ModelCallError } from '../errors.js';
import { collectResponse } from '../models/collect-response.js';
import type { Model, ModelRequest, ModelResponse, ModelStreamEvent } from '../models/spec.js';

/** Calls the model again after a stream that broke mid-way (the transport retries only before the first byte). */
const midStreamAttempts = 3;

export async function callModel(
  model: Model,
  request: ModelRequest,
  handlers: { onEvent: (event: ModelStreamEvent) => void; onRetry: (error: ModelCallError) => void },
): Promise<ModelResponse> {
  for (let attempt = 1; ; attempt++) {
    let eventsSeen = 0;
    try {
      return await collectResponse(model, request, (event) => {
        eventsSeen++;
        handlers.onEvent(event);
      });
    } catch (error) {
      const retry =
        error instanceof ModelCallError &&
        error.retryable &&
        eventsSeen > 0 &&
        attempt < midStreamAttempts &&
        !request.abortSignal?.aborted;
      if (!retry) throw error;
      handlers.onRetry(error);
    }
  }
}
