import { packageProject } from '../../vitest.shared';

export default packageProject('insilico', { backendSetup: true });
