import { packageProject } from '../../vitest.shared';

export default packageProject('hub', { backendSetup: true });
