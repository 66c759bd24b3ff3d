import { packageProject } from '../../vitest.shared';

export default packageProject('readout', { backendSetup: true });
