import { packageProject } from '../../vitest.shared';

export default packageProject('trainer', { backendSetup: true });
