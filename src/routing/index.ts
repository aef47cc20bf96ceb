/** Routing models: fallback, cascade, budget and per-step routes, with circuit breakers and verifiers. */
export {
  type BudgetModelOptions,
  type BudgetStatus,
  type BudgetTier,
  createBudgetModel,
  remainingFraction,
} from './budget-model.js';
export { type CascadeModelOptions, createCascadeModel } from './cascade-model.js';
export {
  type CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitBreakerRegistry,
  type CircuitPermit,
  type CircuitRefusal,
  type CircuitState,
  createCircuitBreakerRegistry,
} from './circuit-breaker.js';
export { createFallbackModel, type FallbackModelOptions } from './fallback-model.js';
export * from './learned/index.js';
export { modelLabel, routeProvider } from './routed-call.js';
export { createSelfConsistencyModel, type SelfConsistencyModelOptions } from './self-consistency-model.js';
export {
  chooseByStep,
  createStepRouter,
  type StepChoice,
  type StepModels,
  type StepRouterOptions,
} from './step-router.js';
export { canFallBack, describeFailure } from './upstream-failure.js';
export {
  matchesFormat,
  nonEmptyAnswer,
  runVerifiers,
  type ValidToolCallOptions,
  type Verdict,
  type Verifier,
  validJsonOutput,
  validToolCall,
} from './verifiers.js';
