export { runCli, commands } from './cli-main.js';
export { ExitCode, consoleIO } from './commands.js';
export type { Command, CliIO } from './commands.js';
export { buildHoeflingLowRes, demoCommand } from './demo-command.js';
export * from './config/index.js';
export { trainCommand, runTraining, parseConfigArgs, DEFAULT_DEMO_URL } from './train-command.js';
export type { TrainingRun, RunTrainingOptions } from './train-command.js';
export { evalCommand } from './eval-command.js';
export { createDataCommand } from './create-data-command.js';
export {
  loadExperimentConfig,
  loadExperimentData,
  makeDataloaders,
  experimentDataInfo,
  buildExperimentModel,
  architectureFromConfig,
  checkSessionsMatch,
  resolveDataDir,
} from './experiment.js';
export type { LoadedConfig, ExperimentData } from './experiment.js';
export { evaluateTestSplits, testSection, writeEvaluationFiles, formatSummaries } from './evaluate-splits.js';
export type { SplitEvaluation } from './evaluate-splits.js';
export { renderReport, describeStop } from './report.js';
export type { ReportInput, ReportSplit, ReportMei } from './report.js';
export { trainingCurvesSvg, correlationSvg, testTracesSvg } from './report-figures.js';
export type { TraceExample, CorrelationRow } from './report-figures.js';
