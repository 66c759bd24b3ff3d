import { packageProject } from '../../vitest.shared';

export default packageProject('contracts', { typecheck: true });
