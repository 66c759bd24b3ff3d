import { BackendError } from '@openretina/contracts';

/** Whether an import failed because the package is not installed (Node's ESM and CJS codes, bundlers' messages). */
function isMissingModule(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
  const message = String((error as { message?: unknown } | null)?.message ?? '');
  return message.includes(name) && /cannot find|not find|failed to (resolve|load)/i.test(message);
}

/**
 * Loads an optional peer dependency with `load` (a dynamic `import()`, so nothing is loaded until first use). When
 * it is not installed, a `BackendError` names the package to install; other load failures (a broken native
 * binary, ...) keep their cause.
 */
export async function loadOptionalPeer<T>(name: string, load: () => Promise<unknown>, purpose: string): Promise<T> {
  let module: unknown;
  try {
    module = await load();
  } catch (cause) {
    if (isMissingModule(cause, name)) {
      throw new BackendError(`${purpose} needs the optional package ${name}, which is not installed: npm i ${name}`, {
        cause,
        details: { package: name },
      });
    }
    throw new BackendError(`${name} could not be loaded: ${(cause as Error).message}`, { cause, details: { package: name } });
  }
  return ((module as { default?: T }).default ?? module) as T;
}
