/** Learned, cost-aware routing: answer formats, features, the fitted router and its verifier. */
export {
  type AnswerFormat,
  checkAnswerFormat,
  type ExtractedAnswer,
  extractAnswer,
  parseAnswerFormat,
} from './answer-format.js';
export { type ArithmeticClaim, arithmeticClaims, evaluateArithmetic } from './arithmetic-claims.js';
export {
  type BoostedStumps,
  type BoostedStumpsOptions,
  fitBoostedStumps,
  predictBoostedStumps,
  type Stump,
} from './boosted-stumps.js';
export {
  promptFeatureNames,
  promptFeatures,
  type ResponseSignals,
  responseFeatureNames,
  responseFeatures,
  sampleAgreement,
} from './features.js';
export {
  bootstrapOperatingPoint,
  chooseOperatingPoint,
  decideRouting,
  type EnsembleMember,
  type LearnedRouter,
  minimumTrainingExamples,
  type OperatingPoint,
  parseLearnedRouter,
  type RoutingExample,
  type RoutingInput,
  type RoutingOutcome,
  replayRouter,
  routingOutcome,
  routingScores,
  scoreRouting,
  type TrainRouterOptions,
  trainRouter,
} from './learned-router.js';
export { loadLearnedRouter, saveLearnedRouter } from './learned-router-file.js';
export { learnedVerifier } from './learned-verifier.js';
export {
  cheapLabel,
  type LedgerOutcomeOptions,
  type LedgerOutcomes,
  type LedgerReader,
  type LeftOut,
  outcomesFromLedger,
} from './ledger-outcomes.js';
export { fitLogisticRegression, type LogisticModel, predictProbability } from './logistic-regression.js';
