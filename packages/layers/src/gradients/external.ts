// TF.js gradients for bundlers (the `browser` condition): the bundler resolves tfjs-core's own ES-module
// registrations against the application's single copy of tfjs-core, so nothing is duplicated.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
