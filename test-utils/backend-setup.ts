// Vitest setup file: every test file of a project runs on the backend named by OPENRETINA_TEST_BACKEND
// (default cpu). The root vitest config runs the model-stack packages once per backend.
import { initBackend } from '@openretina/backend';

await initBackend((process.env.OPENRETINA_TEST_BACKEND ?? 'cpu') as 'cpu' | 'wasm');
