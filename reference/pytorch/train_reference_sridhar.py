#!/usr/bin/env python3
"""Reference training run of one Sridhar 2025 experiment (default sridhar_2025_wn_sc) with OpenRetina's own code on
the tiny datasets of fixtures/experiments/sridhar_2025, for the side-by-side in bench/TRAINING.md.

Usage:
    OPENRETINA_SRC=<OpenRetina source tree> /usr/bin/python3 train_reference_sridhar.py \
        [--config sridhar_2025_wn_sc] [--max-epochs 30] [--threads 2] [--json RESULT.json]

The experiment config is OpenRetina's own ($OPENRETINA_SRC/configs/<name>.yaml), composed by hydra_compose.py with
the overrides that fit it to the tiny data (fixtures/experiments/sridhar_2025/overrides.json: the same ones the
TypeScript test and the side-by-side run pass to `openretina train`). Then, as openretina.cli.train does:
  data_io.stimuli / data_io.responses (build_movies_from_responses, response_splits_from_pickles) called;
  check_matching_stimulus per session; the dataloader function (white_noise_loader / frame_movie_loader) called with
  its section; compute_data_info; LongCycler(train, shuffle=True), ShortCycler(validation); seed_everything(seed);
  the model class of model._target_ built from the model section.
Deviations, because OpenRetina 1.1.1's train script cannot run this experiment as it stands: check_matching_stimulus
fails on the stimulus ids (responses are named sridhar_<session>, the movies <stim_id_prefix>_<session>; observed),
so the shapes are checked without the id; SingleCellSpatialContrast.__init__ takes no data_info (the script passes data_info=...), so it is built
without; the class logs val_correlation, not the val_evaluation_loss that the configs' EarlyStopping (strict) and
ModelCheckpoint monitor, so this loop monitors val_correlation (the same batch-size-weighted mean correlation that
our run logs as val_evaluation_loss).
Lightning's Trainer is replaced by this loop (the stub has none), with the model's own pieces:
  per step: model.train(); training_step's loss (model.loss / numel); backward; clip_grad_norm_(1.0)
            (trainer.gradient_clip_val); the model's optimizer_step (AdamW step, then its parameter clamp); zero_grad.
  per epoch: validation in eval mode, batch-size-weighted mean of -validation_loss (val_correlation);
            the model's ReduceLROnPlateau steps on it; the best state is kept (strictly greater);
            EarlyStopping(mode max, min_delta 0.001, patience 10) as the config.
  test: the best state, eval mode, over the test loader (sequential chunks); per-neuron Pearson correlation of the
        concatenated predictions with the loader's targets (the trial-averaged test responses), averaged over neurons.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import importlib
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hydra_compose  # noqa: E402
import openretina_source  # noqa: E402
from torch_env import torch_env_info  # noqa: E402

SRC = openretina_source.setup()

import lightning  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.utils.data  # noqa: E402

# torch 1.13's Sampler.__init__ requires data_source (optional in newer torch, which OpenRetina relies on); a no-op
if "data_source" in torch.utils.data.Sampler.__init__.__code__.co_varnames[:2]:
    torch.utils.data.Sampler.__init__ = lambda self, data_source=None: None  # noqa: E731

from openretina.data_io.base import compute_data_info  # noqa: E402
from openretina.data_io.cyclers import LongCycler, ShortCycler  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DATA = os.path.join(REPO, "fixtures", "experiments", "sridhar_2025")


def call(node: dict, **extra):
    """Hydra's call/instantiate of a `_target_` node (plain containers, as _convert_ all/object)."""
    module, name = node["_target_"].rsplit(".", 1)
    kwargs = {k: v for k, v in node.items() if k not in ("_target_", "_convert_")}
    return getattr(importlib.import_module(module), name)(**kwargs, **extra)


def pearson_per_neuron(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = pred - pred.mean(0, keepdims=True)
    t = target - target.mean(0, keepdims=True)
    return (p * t).sum(0) / np.sqrt((p**2).sum(0) * (t**2).sum(0))


def validate(model, valid_cycler) -> float:
    model.eval()
    corrs, sizes = [], []
    with torch.no_grad():
        for session, batch in valid_cycler:
            out = model(batch.inputs, session)
            corrs.append(float(-model.validation_loss(out, batch.targets)))
            sizes.append(batch.inputs.shape[0])
    w = np.asarray(sizes, dtype=np.float64)
    return float(np.dot(corrs, w) / w.sum())


def test_correlation(model, test_loaders) -> dict:
    model.eval()
    out = {}
    with torch.no_grad():
        for session, dl in sorted(test_loaders.items()):
            preds, targs = [], []
            for batch in dl:
                preds.append(model(batch.inputs, session).reshape(-1, 1 if batch.targets.ndim < 3 else batch.targets.shape[-1]).numpy())
                targs.append(batch.targets.reshape(preds[-1].shape).numpy())
            c = pearson_per_neuron(np.concatenate(preds), np.concatenate(targs))
            out[session] = {"per_neuron": c.tolist(), "frames": int(sum(p.shape[0] for p in preds))}
    allc = np.concatenate([np.asarray(v["per_neuron"]) for v in out.values()])
    return {"correlation": float(allc.mean()), "per_session": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="sridhar_2025_wn_sc")
    ap.add_argument("--max-epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t_start = time.time()
    tiny = json.load(open(os.path.join(DATA, "overrides.json")))
    kind = "white_noise" if "_wn_" in args.config else "natural_movie"
    overrides = [f"paths.data_dir={os.path.join(DATA, kind)}", f"trainer.max_epochs={args.max_epochs}",
                 *tiny[kind], *tiny["experiments"][args.config]]
    composed = hydra_compose.compose(os.path.join(SRC, "configs"), args.config, overrides,
                                     now=dt.datetime(2026, 1, 1), cwd="/tmp", env={"OPENRETINA_CACHE_DIRECTORY": "/tmp"})
    cfg = composed["config"]

    # ---------------- data (OpenRetina's own functions, as its train script calls them) ----------------
    movies = call(cfg["data_io"]["stimuli"])
    responses = call(cfg["data_io"]["responses"])
    if cfg.get("check_stimuli_responses_match"):
        for s, r in responses.items():
            # the responses are named sridhar_<session>, the movies <stim_id_prefix>_<session>: OpenRetina's own check
            # fails on the stimulus id alone, so the shapes are checked without it
            stim_id, r.stim_id = r.stim_id, None
            r.check_matching_stimulus(movies[s])
            r.stim_id = stim_id
    dataloaders = call(cfg["dataloader"], neuron_data_dictionary=responses, movies_dictionary=movies)
    data_info = compute_data_info(responses, movies, partial_data_info=cfg["data_io"].get("data_info"))
    train_cycler = LongCycler(dataloaders["train"], shuffle=True)
    valid_cycler = ShortCycler(dataloaders["validation"])

    # ---------------- model ----------------
    lightning.seed_everything(cfg["seed"])
    model_cfg = dict(cfg["model"])
    if model_cfg["_target_"].endswith("SingleCellSpatialContrast"):
        model = call(model_cfg)  # its __init__ takes no data_info
    else:
        model_cfg["n_neurons_dict"] = data_info["n_neurons_dict"]
        model = call(model_cfg, data_info=data_info)
    opt_cfg = model.configure_optimizers()
    optimizer = opt_cfg["optimizer"]
    scheduler = opt_cfg["lr_scheduler"]["scheduler"]
    clip = cfg["trainer"].get("gradient_clip_val")
    es_cfg = cfg["training_callbacks"]["early_stopping"]

    # ---------------- training loop (Lightning semantics, the model's own steps) ----------------
    history = []
    best_val, best_state, best_epoch = -float("inf"), None, -1
    es_best, es_wait, stopped_early = -float("inf"), 0, False
    for epoch in range(cfg["trainer"]["max_epochs"]):
        model.train()
        tot, n_steps = 0.0, 0
        for batch_idx, (session, batch) in enumerate(train_cycler):
            loss = model.training_step((session, batch), batch_idx)
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=float(clip))
            model.optimizer_step(epoch, batch_idx, optimizer)
            optimizer.zero_grad()
            tot += float(loss)
            n_steps += 1
        val_corr = validate(model, valid_cycler)
        lr = optimizer.param_groups[0]["lr"]
        scheduler.step(val_corr)
        if val_corr > best_val:
            best_val, best_state, best_epoch = val_corr, copy.deepcopy(model.state_dict()), epoch
        if val_corr > es_best + es_cfg["min_delta"]:
            es_best, es_wait = val_corr, 0
        else:
            es_wait += 1
        rec = {"epoch": epoch, "steps": n_steps, "train_loss_mean": tot / max(n_steps, 1), "val_correlation": val_corr, "lr": lr}
        history.append(rec)
        print(json.dumps(rec), flush=True)
        if es_wait >= es_cfg["patience"]:
            stopped_early = True
            break
    model.load_state_dict(best_state)
    test = test_correlation(model, dataloaders["test"])
    result = {
        "generator": "reference/pytorch/train_reference_sridhar.py",
        "openretina": openretina_source.version_info(SRC),
        "env": torch_env_info(),
        "config": args.config,
        "overrides": [o.replace(DATA, "fixtures/experiments/sridhar_2025") for o in overrides],
        "model": model_cfg["_target_"],
        "n_neurons": {s: len(v["per_neuron"]) for s, v in test["per_session"].items()},
        "epochs_run": len(history),
        "stopped_early": stopped_early,
        "best_epoch": best_epoch,
        "best_val_correlation": best_val,
        "test_correlation": test["correlation"],
        "test_per_session": test["per_session"],
        "best_state": {k: v.detach().flatten().tolist() for k, v in best_state.items() if v.numel() <= 4},
        "seconds_total": round(time.time() - t_start, 1),
        "history": history,
    }
    print(json.dumps({k: result[k] for k in ("epochs_run", "best_epoch", "best_val_correlation", "test_correlation")}, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
