import { defineConfig } from 'tsup';
import { packageOptions } from '../../tsup.shared';

const GRADIENTS = '#register-gradients';

export default defineConfig([
  // The API; it imports the gradient registrations through the package's `imports` map (see package.json).
  packageOptions(undefined, { external: [GRADIENTS], clean: false }),
  // Node and bundler-less runtimes: tfjs-core's registrations inlined (see src/gradients/bundled.ts).
  packageOptions(
    { 'register-gradients': 'src/gradients/bundled.ts' },
    { dts: false, clean: false, noExternal: [/register_all_gradients/] },
  ),
  // Bundlers: a plain import of tfjs-core's registrations.
  packageOptions({ 'register-gradients.browser': 'src/gradients/external.ts' }, { dts: false, clean: false, format: ['esm'] }),
]);
