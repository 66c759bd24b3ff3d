import { packageProject } from '../../vitest.shared';

export default packageProject('onnx', { backendSetup: true });
