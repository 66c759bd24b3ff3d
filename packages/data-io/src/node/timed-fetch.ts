// Network reads that cannot hang: a limit on the wait for the response headers, and on the silence between bytes.
import { DownloadError } from '@openretina/contracts';

/** Time limits of a network read (ms). */
export interface NetworkTimeouts {
  /** Connecting and waiting for the response headers (default 30 000, or `$OPENRETINA_HTTP_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** Silence between two chunks of the body (default 60 000, or `$OPENRETINA_HTTP_IDLE_TIMEOUT_MS`). */
  idleTimeoutMs?: number;
}

function fromEnv(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** The effective limits: the options, else the environment, else the defaults. */
export function networkTimeouts(options: NetworkTimeouts = {}): Required<NetworkTimeouts> {
  return {
    timeoutMs: options.timeoutMs ?? fromEnv('OPENRETINA_HTTP_TIMEOUT_MS', 30_000),
    idleTimeoutMs: options.idleTimeoutMs ?? fromEnv('OPENRETINA_HTTP_IDLE_TIMEOUT_MS', 60_000),
  };
}

/** A response whose body is read chunk by chunk under the idle limit. */
export interface TimedResponse {
  response: Response;
  /** The body's chunks; a silence longer than the idle limit ends it with a DownloadError naming the URL. */
  chunks(): AsyncIterable<Uint8Array>;
  /** The whole body as text (under the idle limit). */
  text(): Promise<string>;
  /** Frees the body without reading it. */
  cancel(): Promise<void>;
}

/**
 * `fetch(url)` with limits: the headers must arrive within `timeoutMs`, and the body must not stall for more than
 * `idleTimeoutMs`. A limit that runs out aborts the request with a DownloadError naming the URL and the limit.
 */
export async function timedFetch(
  url: string,
  init: { headers?: Record<string, string>; signal?: AbortSignal },
  options: NetworkTimeouts & { fetch?: typeof fetch } = {},
): Promise<TimedResponse> {
  const { timeoutMs, idleTimeoutMs } = networkTimeouts(options);
  const controller = new AbortController();
  const signal = init.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number, what: string) => {
    clearTimeout(timer);
    timer = setTimeout(
      () =>
        controller.abort(
          new DownloadError(
            `${url}: ${what} within ${ms / 1000} s (the server stalled; set OPENRETINA_HTTP_TIMEOUT_MS / OPENRETINA_HTTP_IDLE_TIMEOUT_MS to wait longer).`,
            { details: { url } },
          ),
        ),
      ms,
    );
  };
  const reason = (error: unknown) => (controller.signal.aborted ? controller.signal.reason : error);
  arm(timeoutMs, 'no response');
  let response: Response;
  try {
    response = await (options.fetch ?? globalThis.fetch)(url, { headers: init.headers ?? {}, signal });
  } catch (error) {
    clearTimeout(timer);
    throw reason(error);
  }
  clearTimeout(timer);
  async function* chunks(): AsyncIterable<Uint8Array> {
    if (!response.body) return;
    arm(idleTimeoutMs, 'no data');
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        arm(idleTimeoutMs, 'no data');
        yield chunk;
      }
    } catch (error) {
      throw reason(error);
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    response,
    chunks,
    async text() {
      const parts: Uint8Array[] = [];
      for await (const c of chunks()) parts.push(c);
      return Buffer.concat(parts).toString('utf8');
    },
    async cancel() {
      clearTimeout(timer);
      await response.body?.cancel().catch(() => undefined);
    },
  };
}
