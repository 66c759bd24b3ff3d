#!/usr/bin/env python3
"""Reference training run of OpenRetina's own model on a dataset in the generic HDF5 format (2 colour channels,
18x16 pixels, test stimulus named "test_movie"; adapt the constants for other shapes). Run by `pnpm bench`
(bench/run.mjs) on the bundled dataset for the epoch time; bench/TRAINING.md records a full run.

Usage:
    OPENRETINA_SRC=<OpenRetina source tree> /usr/bin/python3 train_reference.py DATA_DIR \
        [--max-epochs 30] [--patience 5] [--batch-size 32] [--threads 2] [--json RESULT.json] [--save-ckpt BEST.ckpt]
        [--max-batches N] [--max-val-batches N] [--skip-test]

--max-batches / --max-val-batches limit the training steps / validation batches of each epoch (Lightning's
limit_train_batches / limit_val_batches; what bench/scale-epoch.mjs uses on the scale dataset), --skip-test leaves
out the test evaluations before and after training. The result JSON records the peak RSS of the process.

Data path = OpenRetina's own code, as openretina.cli.train runs it for configs/hdf5_core_readout.yaml:
  h5_dataset_reader.load_stimuli(stimulus_size [2, 18, 16], test_names ["test_movie"], norm_mean 0, norm_std 1)
  h5_dataset_reader.load_responses(test_names ["test_movie"]); check_matching_stimulus per session
  base_dataloader.multiple_movies_dataloaders(train_chunk_size 50, clip_length 150, num_val_clips 10,
      batch_size --batch-size, allow_over_boundaries True, seed 42)
  base.compute_data_info(...)  (readout biases start at the mean training response)
  cyclers.LongCycler(train loaders, shuffle=True) per epoch, cyclers.ShortCycler(validation loaders)
  lightning.seed_everything(42), then UnifiedCoreReadout(data_info=data_info, **cfg.model) with cfg.model of
  configs/hoefling_2024_core_readout_low_res.yaml (hoefling_model.compose_model_config).
(Sessions are sorted by name after loading: the reader returns them in os.listdir order, which would make the
readout initialisation order depend on the file system.)

Lightning's Trainer is replaced by this loop (the stub has none), reproducing what Lightning does with the config:
  per step: model.train(); loss = PoissonLoss3d(sum) + core.regularizer() + readout.regularizer(session);
            backward; clip_grad_norm_(all parameters, 1.0) (trainer.gradient_clip_val = 1); AdamW step
            (configs/optimizer/adamw.yaml via model.configure_optimizers(): lr 0.01, wd 0.01); zero_grad.
  per epoch: validation in eval mode; val_evaluation_loss = mean over the validation batches (one batch of 10
            clips x 150 frames per session) of CorrelationLoss3d(avg=True); ReduceLROnPlateau.step(that value)
            (mode max, factor 0.3, patience 5, threshold 5e-4 abs, min_lr = 0.01 * 0.3^3);
            "ModelCheckpoint" keeps the state with the best value (strictly greater);
            EarlyStopping(mode max, min_delta 0.001, patience --patience) as configs/training_callbacks.
  test: the best state, eval mode, on the whole test movie per session (OpenRetina's test dataloader).
Metrics: per neuron Pearson correlation over the aligned frames (test frames 30..749 vs the 720 model output
frames), averaged over neurons: vs the trial-averaged test responses (= OpenRetina's test CorrelationLoss3d) and
vs the noise-free teacher rates (DATA_DIR/truth); ceiling = teacher rates vs trial-averaged responses.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hoefling_model  # noqa: E402
import openretina_source  # noqa: E402
from torch_env import torch_env_info  # noqa: E402

SRC = openretina_source.setup()

import lightning  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.utils.data  # noqa: E402

# Shim (torch 1.13 only): openretina's MovieSampler calls `super().__init__()` without arguments, which
# torch >= 2.2 allows (data_source became optional); torch 1.13's Sampler.__init__(self, data_source) is a no-op
# with a required argument. Same no-op, argument optional. No numerical effect.
if "data_source" in torch.utils.data.Sampler.__init__.__code__.co_varnames[:2]:
    def _sampler_init(self, data_source=None) -> None:
        pass

    torch.utils.data.Sampler.__init__ = _sampler_init

from openretina.data_io.base import compute_data_info  # noqa: E402
from openretina.data_io.base_dataloader import multiple_movies_dataloaders  # noqa: E402
from openretina.data_io.cyclers import LongCycler, ShortCycler  # noqa: E402
from openretina.data_io.h5_dataset_reader import load_responses, load_stimuli  # noqa: E402
from openretina.models.core_readout import UnifiedCoreReadout  # noqa: E402

TEST_NAME = "test_movie"


def pearson_per_neuron(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """pred, target: (T, N) -> (N,) Pearson correlation over time."""
    p = pred - pred.mean(0, keepdims=True)
    t = target - target.mean(0, keepdims=True)
    return (p * t).sum(0) / np.sqrt((p ** 2).sum(0) * (t ** 2).sum(0))


def evaluate_test(model, dataloaders, data_dir: str) -> dict:
    model.eval()
    res = {}
    with torch.no_grad():
        for session, dl in sorted(dataloaders[TEST_NAME].items()):
            (batch,) = list(dl)
            out = model(batch.inputs, data_key=session)  # (1, T_out, N)
            targets = batch.targets  # (1, T, N) trial average
            lag = targets.shape[1] - out.shape[1]
            or_metric = float(model.evaluation_loss(out, targets))  # OpenRetina's test CorrelationLoss3d(avg=True)
            pred = out[0].numpy()
            c_avg = pearson_per_neuron(pred, targets[0, lag:].numpy())
            entry = {"openretina_CorrelationLoss3d": or_metric, "corr_vs_trial_avg": c_avg.tolist(), "lag": int(lag),
                     "frames": int(out.shape[1])}
            truth = os.path.join(data_dir, "truth", "rates_test_movie", f"{session}.npy")
            if os.path.exists(truth):
                rates = np.load(truth)  # (N, T)
                entry["corr_vs_teacher_rates"] = pearson_per_neuron(pred, rates[:, lag:].T).tolist()
                entry["ceiling_teacher_vs_trial_avg"] = pearson_per_neuron(rates[:, lag:].T, targets[0, lag:].numpy()).tolist()
            res[session] = entry
    summary = {}
    for key in ("corr_vs_trial_avg", "corr_vs_teacher_rates", "ceiling_teacher_vs_trial_avg"):
        if all(key in v for v in res.values()):
            allv = np.concatenate([np.asarray(v[key]) for v in res.values()])
            summary[key + "_mean_all_neurons"] = float(allv.mean())
            summary[key + "_mean_of_session_means"] = float(np.mean([np.mean(v[key]) for v in res.values()]))
    summary["openretina_test_metric_mean_of_sessions"] = float(np.mean([v["openretina_CorrelationLoss3d"] for v in res.values()]))
    return {"per_session": res, "summary": summary}


def validate(model, valid_cycler, max_batches: int | None = None) -> tuple[float, float]:
    model.eval()
    corrs, losses, sizes = [], [], []
    with torch.no_grad():
        for session, batch in valid_cycler:
            if max_batches is not None and len(sizes) >= max_batches:
                break
            out = model(batch.inputs, data_key=session)
            corrs.append(float(model.evaluation_loss(out, batch.targets)))
            losses.append(float(model.loss(out, batch.targets) / sum(out.shape)))
            sizes.append(batch.inputs.shape[0])
    w = np.asarray(sizes, dtype=np.float64)
    return float(np.dot(corrs, w) / w.sum()), float(np.dot(losses, w) / w.sum())  # Lightning: batch-size-weighted mean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir")
    ap.add_argument("--max-epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--min-delta", type=float, default=0.001)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", default=None)
    ap.add_argument("--save-ckpt", default=None)
    ap.add_argument("--max-batches", type=int, default=None, help="training steps per epoch at most")
    ap.add_argument("--max-val-batches", type=int, default=None, help="validation batches per epoch at most")
    ap.add_argument("--skip-test", action="store_true", help="no test evaluation before and after training")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t_start = time.time()

    # ---------------- data (OpenRetina's own readers / loaders) ----------------
    movies = load_stimuli(args.data_dir, test_names=[TEST_NAME], stimulus_size=[2, 18, 16], norm_mean=0.0, norm_std=1.0)
    responses = load_responses(args.data_dir, test_names=[TEST_NAME])
    movies = dict(sorted(movies.items()))
    responses = dict(sorted(responses.items()))
    for s, r in responses.items():
        r.check_matching_stimulus(movies[s])
    dataloaders = multiple_movies_dataloaders(
        responses, movies, train_chunk_size=50, batch_size=args.batch_size, seed=42, clip_length=150,
        num_val_clips=10, allow_over_boundaries=True,
    )
    data_info = compute_data_info(responses, movies)
    train_cycler = LongCycler(dataloaders["train"], shuffle=True)
    valid_cycler = ShortCycler(dataloaders["validation"])
    data_desc = {
        s: {"train_chunks": len(dataloaders["train"][s].dataset), "train_batches_per_epoch": len(dataloaders["train"][s]),
            "val_clips": len(dataloaders["validation"][s].sampler), "n_neurons": data_info["n_neurons_dict"][s]}
        for s in responses
    }
    t_data = time.time() - t_start

    # ---------------- model ----------------
    lightning.seed_everything(args.seed)
    top, root, _ = hoefling_model.compose_model_config(SRC)
    cfg_model = root.model
    cfg_model.n_neurons_dict = data_info["n_neurons_dict"]
    model = UnifiedCoreReadout(data_info=data_info, **cfg_model)
    opt_cfg = model.configure_optimizers()
    optimizer = opt_cfg["optimizer"]
    scheduler = opt_cfg["lr_scheduler"]["scheduler"] if isinstance(opt_cfg.get("lr_scheduler"), dict) else None
    init_test = None if args.skip_test else evaluate_test(model, dataloaders, args.data_dir)["summary"]

    # ---------------- training loop (Lightning semantics) ----------------
    history = []
    best_val, best_state, best_epoch = -float("inf"), None, -1
    es_best, es_wait, stopped_early = -float("inf"), 0, False
    for epoch in range(args.max_epochs):
        t0 = time.time()
        model.train()
        tot, n_steps, grad_norms = 0.0, 0, []
        for session, batch in train_cycler:
            if args.max_batches is not None and n_steps >= args.max_batches:
                break
            out = model(batch.inputs, data_key=session)
            loss = model.loss(out, batch.targets) + model.core.regularizer() + model.readout.regularizer(session)
            loss.backward()
            grad_norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)))
            optimizer.step()
            optimizer.zero_grad()
            tot += float(loss)
            n_steps += 1
        t_train = time.time() - t0
        t1 = time.time()
        val_corr, val_loss = validate(model, valid_cycler, args.max_val_batches)
        t_val = time.time() - t1
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step(val_corr)
        if val_corr > best_val:  # ModelCheckpoint(monitor=val_evaluation_loss, mode=max, save_top_k=1)
            best_val, best_state, best_epoch = val_corr, copy.deepcopy(model.state_dict()), epoch
        if val_corr > es_best + args.min_delta:  # EarlyStopping(mode=max, min_delta)
            es_best, es_wait = val_corr, 0
        else:
            es_wait += 1
        rec = {"epoch": epoch, "steps": n_steps, "train_total_loss_mean": tot / max(n_steps, 1),
               "grad_norm_median": float(np.median(grad_norms)), "val_corr": val_corr, "val_loss": val_loss,
               "lr": lr, "seconds_train": round(t_train, 3), "seconds_val": round(t_val, 3)}
        history.append(rec)
        print(json.dumps(rec), flush=True)
        if es_wait >= args.patience:
            stopped_early = True
            break

    model.load_state_dict(best_state)
    test = {"summary": None, "per_session": {}} if args.skip_test else evaluate_test(model, dataloaders, args.data_dir)
    epoch_times = [h["seconds_train"] + h["seconds_val"] for h in history]
    later = epoch_times[1:] or epoch_times
    result = {
        "generator": "reference/pytorch/train_reference.py",
        "openretina": openretina_source.version_info(SRC),
        "env": torch_env_info(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("data_dir", "json", "save_ckpt")},
        "data": data_desc,
        "seconds_data_loading": round(t_data, 2),
        "epochs_run": len(history),
        "stopped_early": stopped_early,
        "best_epoch": best_epoch,
        "best_val_corr": best_val,
        "seconds_per_epoch_median": float(np.median(epoch_times)),
        "seconds_per_epoch_after_first_median": float(np.median(later)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux: kilobytes
        "seconds_per_epoch_train_median": float(np.median([h["seconds_train"] for h in history])),
        "seconds_per_epoch_val_median": float(np.median([h["seconds_val"] for h in history])),
        "seconds_total": round(time.time() - t_start, 1),
        "test_before_training": init_test,
        "test": test["summary"],
        "test_per_session": {s: {k: (float(np.mean(v)) if isinstance(v, list) else v) for k, v in e.items()}
                             for s, e in test["per_session"].items()},
        "history": history,
        "python_random_state_used": "LongCycler shuffles with python `random`, MovieSampler with numpy's global RNG",
    }
    print(json.dumps({k: result[k] for k in ("epochs_run", "best_epoch", "best_val_corr", "seconds_per_epoch_median", "peak_rss_mb", "test")}, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    if args.save_ckpt:
        torch.save({"epoch": best_epoch, "global_step": sum(h["steps"] for h in history[: best_epoch + 1]),
                    "pytorch-lightning_version": "stub (torch.save of a dict laid out like a lightning>=2 checkpoint)",
                    "state_dict": model.state_dict(), "hparams_name": "kwargs",
                    "hyper_parameters": copy.deepcopy(dict(model.hparams))}, args.save_ckpt)


if __name__ == "__main__":
    main()
