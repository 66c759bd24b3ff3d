// TF.js gradients for Node (ESM and CJS) and any runtime without a bundler. tfjs-core registers no gradients
// itself; its registrations ship only as extension-less ES modules (`dist/register_all_gradients`) that Node
// cannot load. This entry is built with them inlined (tsup `noExternal`), as the `@tensorflow/tfjs` union's own
// Node bundle does: the inlined ops share tfjs-core's global engine and registries, and tfjs-core's Tensor and
// Variable classes accept instances across copies. tfjs-core itself is imported first so that its engine exists
// before the inlined code looks it up.
import '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
