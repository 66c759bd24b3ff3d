import type { OrtLike } from '../src/node.js';

/** What a test watches in the ONNX Runtime the engine uses: each session's options, each run's feeds. */
export interface OrtObserver {
  onCreate?: (options: Record<string, unknown> | undefined) => void;
  onRun?: (feeds: Record<string, unknown>) => void;
}

/**
 * `ort` that calls the observer before every session it creates and (with `onRun`) before every run of those
 * sessions; everything else is the real runtime's.
 */
export function observedOrt(ort: OrtLike, observer: OrtObserver): OrtLike {
  return {
    Tensor: ort.Tensor,
    InferenceSession: {
      create: async (bytes, options) => {
        observer.onCreate?.(options as Record<string, unknown> | undefined);
        const s = await ort.InferenceSession.create(bytes, options);
        const onRun = observer.onRun;
        if (!onRun) return s;
        return {
          inputNames: s.inputNames,
          outputNames: s.outputNames,
          run: (feeds: Record<string, unknown>) => {
            onRun(feeds);
            return s.run(feeds);
          },
          release: async () => {
            await s.release?.();
          },
        };
      },
    },
  };
}
