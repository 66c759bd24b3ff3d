#!/usr/bin/env python3
"""CPU timings of the real OpenRetina PyTorch model (reference for the TypeScript port; run by `pnpm bench`,
bench/run.mjs, when $OPENRETINA_SRC is set).

Usage:
    OPENRETINA_SRC=<OpenRetina source tree> /usr/bin/python3 bench_torch.py [--threads 2] [--runs 20] [--json out.json]

Model: configs/hoefling_2024_core_readout_low_res.yaml (same construction as make_fixtures.py),
sessions {session_1: 20, session_2: 35, session_3: 50}; all timed work uses session_2 (35 neurons).
  (a) inference: model.eval(), torch.no_grad(), model(x, data_key) for x = (32, 2, 50, 18, 16)
      [50 = dataloader train_chunk_size; also 150 = clip_length of validation clips]
  (b) training step: model.train(); zero_grad(set_to_none=True); forward; PoissonLoss3d(sum) +
      core.regularizer() + readout.regularizer(session); backward; clip_grad_norm_(1.0) (trainer
      gradient_clip_val=1); AdamW step (configs/optimizer/adamw.yaml via model.configure_optimizers()).
      Batch 32 (brief) and 128 (the low-res config's dataloader.batch_size).
  (c) MEI step on a (1, 2, 50, 18, 16) stimulus, model.eval():
      c1 gradient of one neuron's objective (IncreaseObjective + SliceMeanReducer(start=10, length=10))
         w.r.t. the input, model parameters frozen;
      c2 the same with parameters still requiring grad (what OpenRetina's MEI code does: it never freezes);
      c3 one full iteration of openretina's optimize_stimulus (SGD lr=100, RangeRegularizationLoss,
         ChangeNormJointlyClipRangeSeparately), i.e. c2 + regulariser + SGD step + postprocessing.
Median over --runs timed runs after --warmup untimed runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hoefling_model  # noqa: E402
import openretina_source  # noqa: E402
from torch_env import torch_env_info  # noqa: E402

SRC = openretina_source.setup()

import torch  # noqa: E402

from openretina.data_io.hoefling_2024.constants import STIMULUS_RANGE_CONSTRAINTS  # noqa: E402
from openretina.insilico.stimulus_optimization.objective import IncreaseObjective, SliceMeanReducer  # noqa: E402
from openretina.insilico.stimulus_optimization.optimization_stopper import OptimizationStopper  # noqa: E402
from openretina.insilico.stimulus_optimization.optimizer import optimize_stimulus  # noqa: E402
from openretina.insilico.stimulus_optimization.regularizer import (  # noqa: E402
    ChangeNormJointlyClipRangeSeparately,
    RangeRegularizationLoss,
)

SESSION = "session_2"


def _proc_stat_busy_s() -> float:
    """System-wide busy CPU seconds (all cores) from /proc/stat."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (vals + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def foreign_load(window_s: float = 1.0) -> float:
    """CPU cores used by processes other than this one over `window_s` seconds."""
    b0, o0, t0 = _proc_stat_busy_s(), _own_cpu_s(), time.perf_counter()
    time.sleep(window_s)
    b1, o1, t1 = _proc_stat_busy_s(), _own_cpu_s(), time.perf_counter()
    return max(0.0, ((b1 - b0) - (o1 - o0)) / (t1 - t0))


WAIT_IDLE_S = 0.0


def wait_for_idle(max_wait_s: float, threshold: float = 0.15) -> dict:
    t0 = time.perf_counter()
    load = foreign_load(0.5)
    while load > threshold and time.perf_counter() - t0 < max_wait_s:
        time.sleep(2.0)
        load = foreign_load(0.5)
    return {"waited_s": round(time.perf_counter() - t0, 1), "foreign_load_at_start": round(load, 2)}


def timeit(fn, runs: int, warmup: int) -> dict:
    idle = wait_for_idle(WAIT_IDLE_S) if WAIT_IDLE_S > 0 else {}
    for _ in range(warmup):
        fn()
    ts = []
    b0, o0, w0 = _proc_stat_busy_s(), _own_cpu_s(), time.perf_counter()
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    b1, o1, w1 = _proc_stat_busy_s(), _own_cpu_s(), time.perf_counter()
    own_cores = (o1 - o0) / (w1 - w0)
    foreign_cores = max(0.0, ((b1 - b0) - (o1 - o0)) / (w1 - w0))
    ts_sorted = sorted(ts)
    q = lambda p: ts_sorted[min(len(ts_sorted) - 1, int(round(p * (len(ts_sorted) - 1))))]  # noqa: E731
    return {
        "median_ms": statistics.median(ts),
        "mean_ms": statistics.fmean(ts),
        "min_ms": ts_sorted[0],
        "p10_ms": q(0.1),
        "p90_ms": q(0.9),
        "runs": runs,
        "warmup": warmup,
        "own_cpu_cores_used": round(own_cores, 2),
        "foreign_cpu_cores_used": round(foreign_cores, 2),  # other processes on the machine while timing
        **idle,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--train-batches", default="32,128")
    ap.add_argument("--json", default=None)
    ap.add_argument("--wait-idle", type=float, default=0.0,
                    help="before each benchmark wait up to this many seconds for other processes to go quiet")
    args = ap.parse_args()
    global WAIT_IDLE_S
    WAIT_IDLE_S = args.wait_idle

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model, root = hoefling_model.build_model(SRC)
    hoefling_model.perturb_to_trained_like(model)
    c, _, h, w = model.hparams["in_shape"]
    n_neurons = model.readout[SESSION].outdims
    results: dict = {
        "env": torch_env_info(),
        "openretina": openretina_source.version_info(SRC),
        "threads": torch.get_num_threads(),
        "session": SESSION,
        "n_neurons": n_neurons,
        "chunk_frames": args.frames,
        "params_total": sum(p.numel() for p in model.parameters()),
        "params_core_plus_session": sum(p.numel() for p in model.core.parameters())
        + sum(p.numel() for p in model.readout[SESSION].parameters()),
        "timings": {},
    }
    T = args.frames
    lost = 30  # (21-1) + (11-1) frames lost to the valid temporal convolutions

    # ---------------- (a) inference ----------------
    model.eval()
    for frames in (T, 150):
        x = torch.randn(args.batch, c, frames, h, w)
        with torch.no_grad():
            r = timeit(lambda: model(x, data_key=SESSION), args.runs, args.warmup)
        r.update(
            batch=args.batch,
            frames=frames,
            input_frames_per_s=args.batch * frames / (r["median_ms"] / 1e3),
            output_frames_per_s=args.batch * (frames - lost) / (r["median_ms"] / 1e3),
            clips_per_s=args.batch / (r["median_ms"] / 1e3),
        )
        results["timings"][f"a_inference_b{args.batch}_t{frames}"] = r
        print(f"(a) inference b={args.batch} T={frames}: {r['median_ms']:.1f} ms median "
              f"({r['input_frames_per_s']:.0f} input frames/s) foreign load {r['foreign_cpu_cores_used']}", flush=True)

    # ---------------- (b) training step ----------------
    for bsz in [int(b) for b in args.train_batches.split(",") if b]:
        model.train()
        optimizer = model.configure_optimizers()["optimizer"]
        x = torch.randn(bsz, c, T, h, w)
        y = torch.poisson(torch.full((bsz, T, n_neurons), 0.8))
        phases = {"forward_loss": [], "backward": [], "clip_step": []}

        def step(record=False):
            t0 = time.perf_counter()
            optimizer.zero_grad(set_to_none=True)
            out = model(x, data_key=SESSION)
            loss = model.loss(out, y) + model.core.regularizer() + model.readout.regularizer(SESSION)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
            optimizer.step()
            t3 = time.perf_counter()
            if record:
                phases["forward_loss"].append((t1 - t0) * 1e3)
                phases["backward"].append((t2 - t1) * 1e3)
                phases["clip_step"].append((t3 - t2) * 1e3)

        r = timeit(lambda: step(record=True), args.runs, args.warmup)
        # phases were also recorded during warm-up: keep only timed runs
        r["phase_median_ms"] = {k: statistics.median(v[-args.runs:]) for k, v in phases.items()}
        r.update(batch=bsz, frames=T, input_frames_per_s=bsz * T / (r["median_ms"] / 1e3),
                 samples_per_s=bsz / (r["median_ms"] / 1e3))
        results["timings"][f"b_train_step_b{bsz}_t{T}"] = r
        print(f"(b) train step b={bsz} T={T}: {r['median_ms']:.1f} ms median "
              f"({r['input_frames_per_s']:.0f} frames/s) phases {r['phase_median_ms']} foreign load {r['foreign_cpu_cores_used']}", flush=True)

    # ---------------- (c) MEI step ----------------
    model.eval()
    reducer = SliceMeanReducer(axis=0, start=10, length=10)
    objective = IncreaseObjective(model, neuron_indices=7, data_key=SESSION, response_reducer=reducer)
    stim = torch.randn(1, c, T, h, w).requires_grad_(True)

    def grad_step():
        (g,) = torch.autograd.grad(objective.forward(stim), stim)
        return g

    model.requires_grad_(False)
    r = timeit(grad_step, args.runs, args.warmup)
    r.update(frames=T, input_frames_per_s=T / (r["median_ms"] / 1e3))
    results["timings"][f"c1_mei_grad_frozen_params_t{T}"] = r
    print(f"(c1) MEI input-grad (params frozen): {r['median_ms']:.2f} ms", flush=True)
    model.requires_grad_(True)
    r = timeit(grad_step, args.runs, args.warmup)
    r.update(frames=T, input_frames_per_s=T / (r["median_ms"] / 1e3))
    results["timings"][f"c2_mei_grad_params_require_grad_t{T}"] = r
    print(f"(c2) MEI input-grad (params require grad, as OpenRetina): {r['median_ms']:.2f} ms", flush=True)

    min_max = [
        (STIMULUS_RANGE_CONSTRAINTS["x_min_green"], STIMULUS_RANGE_CONSTRAINTS["x_max_green"]),
        (STIMULUS_RANGE_CONSTRAINTS["x_min_uv"], STIMULUS_RANGE_CONSTRAINTS["x_max_uv"]),
    ]
    norm = float(STIMULUS_RANGE_CONSTRAINTS["norm"])
    postproc = ChangeNormJointlyClipRangeSeparately(min_max_values=min_max, norm=norm)
    reg = RangeRegularizationLoss(min_max_values=min_max, max_norm=norm, factor=0.1)
    stim2 = postproc.process(torch.randn(1, c, T, h, w) * 0.1).requires_grad_(True)

    def mei_iteration():
        optimize_stimulus(stim2, partial(torch.optim.SGD, lr=100.0), objective, OptimizationStopper(max_iterations=1),
                          stimulus_regularization_loss=reg, stimulus_postprocessor=postproc)
        stim2.requires_grad_(True)  # optimize_stimulus detaches in place at the end

    r = timeit(mei_iteration, args.runs, args.warmup)
    r.update(frames=T)
    results["timings"][f"c3_mei_optimize_stimulus_1_iteration_t{T}"] = r
    print(f"(c3) optimize_stimulus, 1 iteration: {r['median_ms']:.2f} ms", flush=True)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(json.dumps(results["timings"], indent=1))


if __name__ == "__main__":
    main()
