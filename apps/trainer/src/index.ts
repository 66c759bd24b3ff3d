export { runCli, commands } from './cli-main.js';
export { ExitCode, consoleIO } from './commands.js';
export type { Command, CliIO } from './commands.js';
export { buildHoeflingLowRes, demoCommand } from './demo-command.js';
export * from './config/index.js';
