export { WasmPredictor } from './wasm-predictor.js';
export type { PredictedValues, WasmPredictorOptions } from './wasm-predictor.js';
