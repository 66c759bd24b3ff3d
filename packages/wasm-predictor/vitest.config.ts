import { packageProject } from '../../vitest.shared';

export default packageProject('wasm-predictor', { backendSetup: true });
