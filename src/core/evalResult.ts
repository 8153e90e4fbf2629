// The evaluation result is declared in src/formats/evalResult.ts (type and validator,
// dependency-free); re-exported here for the engine's modules.
export {
  EVAL_RESULT_FORMAT,
  PROTOTYPE_SUFFIX,
  type CurvePoint,
  type Estimate,
  type EvalCheck,
  type EvalChecks,
  type EvalDiagnostics,
  type EvalResultFile,
  type ModelEval,
  type PairedComparison,
} from '../formats/evalResult';
