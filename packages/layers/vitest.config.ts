import { packageProject } from '../../vitest.shared';

export default packageProject('layers', { backendSetup: true });
