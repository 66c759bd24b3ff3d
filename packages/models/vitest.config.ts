import { packageProject } from '../../vitest.shared';

export default packageProject('models', { typecheck: true });
