#!/usr/bin/env python3
"""Numerical-parity fixtures from the real OpenRetina PyTorch code: fixtures/openretina-1.1.1 of this repository.

Usage (see README.md in this folder):
    OPENRETINA_SRC=<OpenRetina source tree> /usr/bin/python3 make_fixtures.py [OUT_DIR] [--npz]

OUT_DIR defaults to the repository's fixtures/openretina-1.1.1. Builds the model of
configs/hoefling_2024_core_readout_low_res.yaml (UnifiedCoreReadout = SimpleCoreWrapper "custom_separable"
space-time separable conv core + MultiGaussianMaskReadout) for 3 made-up sessions, moves it to a deterministic
'trained-looking' state, and writes:

  state_dict.safetensors / state_dict.json   the model state (portable)
  state_dict.pt                              torch.save(model.state_dict())
  model.ckpt                                 Lightning-layout dict (hyper_parameters hold omegaconf DictConfigs,
                                             as real OpenRetina checkpoints do)
  model_plain.ckpt                           same, hyper_parameters as plain dict/list/tensor
  fixtures.safetensors                       inputs, outputs, intermediates, grads, MEI
  model_session_2.onnx                       eval-mode forward for data_key="session_2"
  manifest.json                              every tensor's shape/dtype + scalars + notes + each file's sha256
  (--npz: state_dict.npz and fixtures.npz, numpy copies of the two safetensors files; not kept in the repository)

Nothing of OpenRetina is copied: it is imported from $OPENRETINA_SRC at run time.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hoefling_model  # noqa: E402
import openretina_source  # noqa: E402
import safetensors_np  # noqa: E402
from torch_env import pin_single_thread, torch_env_info  # noqa: E402

SRC = openretina_source.setup()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from openretina.insilico.stimulus_optimization.objective import IncreaseObjective, SliceMeanReducer  # noqa: E402
from openretina.insilico.stimulus_optimization.optimization_stopper import OptimizationStopper  # noqa: E402
from openretina.insilico.stimulus_optimization.optimizer import optimize_stimulus  # noqa: E402
from openretina.insilico.stimulus_optimization.regularizer import (  # noqa: E402
    ChangeNormJointlyClipRangeSeparately,
    RangeRegularizationLoss,
    StimulusPostprocessor,
)
from openretina.data_io.hoefling_2024.constants import STIMULUS_RANGE_CONSTRAINTS  # noqa: E402
from openretina.models.core_readout import UnifiedCoreReadout  # noqa: E402

DEFAULT_OUT_DIR = str(Path(__file__).resolve().parents[2] / "fixtures" / "openretina-1.1.1")
TRAIN_SESSION = "session_2"
MEI_NEURON = 7
INPUT_SEED = 1234
TARGET_SEED = 4321
MEI_SEED = 777


def np32(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    if t.dtype.is_floating_point:
        t = t.float()
    return t.contiguous().numpy().copy()


class Recorder:
    def __init__(self):
        self.tensors: dict[str, np.ndarray] = {}
        self.scalars: dict[str, float | int | list] = {}

    def t(self, name: str, value: torch.Tensor | np.ndarray):
        arr = np32(value) if isinstance(value, torch.Tensor) else np.ascontiguousarray(value)
        assert name not in self.tensors, name
        self.tensors[name] = arr

    def s(self, name: str, value):
        if isinstance(value, torch.Tensor):
            value = value.detach().item() if value.numel() == 1 else value.detach().tolist()
        self.scalars[name] = value


# ----------------------------------------------------------------------------------------------
class _StimulusRecorder(StimulusPostprocessor):
    """Appended after OpenRetina's postprocessor: records the stimulus after each optimisation step."""

    def __init__(self):
        self.history: list[torch.Tensor] = []

    def process(self, x):
        self.history.append(x.detach().clone())
        return x


class _LossRecordingStopper(OptimizationStopper):
    """OpenRetina's OptimizationStopper (never stops early) that also records the loss of each iteration."""

    def __init__(self, max_iterations):
        super().__init__(max_iterations)
        self.losses: list[float] = []

    def early_stop(self, loss: float) -> bool:
        self.losses.append(loss)
        return False


class _SessionForward(torch.nn.Module):
    def __init__(self, model, data_key):
        super().__init__()
        self.model = model
        self.data_key = data_key

    def forward(self, x):
        return self.model(x, data_key=self.data_key)


def _einsum_onnx_shim():
    """ONNX-export-only shim. STSeparableBatchConv3d builds its weight with
    torch.einsum("oitxx,oixhw->oithw", w_t[o,i,t,1,1], w_s[o,i,1,h,w]); ONNX's Einsum shape inference
    (onnx 1.12) only infers the rank, so torch 1.13 cannot export the following Conv ("kernel of unknown
    shape"). With x of size 1 the einsum is exactly one product per element, i.e. a broadcast multiply,
    which exports with static shapes. Bit-identical (checked below). The OpenRetina source is untouched."""
    orig = torch.einsum

    def einsum(eq, *ops):
        if isinstance(eq, str) and eq.replace(" ", "") == "oitxx,oixhw->oithw" and len(ops) == 2:
            a, b = ops
            if a.shape[-1] == 1 and a.shape[-2] == 1 and b.shape[2] == 1:
                return a * b  # (o,i,t,1,1) * (o,i,1,h,w) -> (o,i,t,h,w)
        return orig(eq, *ops)

    return orig, einsum


# ----------------------------------------------------------------------------------------------
def save_state(model, out_dir: str, rec_meta: dict, npz: bool) -> dict:
    sd = model.state_dict()
    params = dict(model.named_parameters())
    persistent_buffers = {k for k in sd if k not in params}
    arrays = {k: np32(v) for k, v in sd.items()}
    safetensors_np.save_file(arrays, os.path.join(out_dir, "state_dict.safetensors"), metadata={"format": "pt", **rec_meta})
    if npz:
        np.savez(os.path.join(out_dir, "state_dict.npz"), **arrays)
    entries = [
        {
            "key": k,
            "shape": list(a.shape),
            "dtype": str(a.dtype),
            "kind": "parameter" if k in params else "buffer",
            "numel": int(a.size),
        }
        for k, a in arrays.items()
    ]
    with open(os.path.join(out_dir, "state_dict.json"), "w") as f:
        json.dump({"order": "model.state_dict() order", "entries": entries, **rec_meta}, f, indent=1)
    torch.save(sd, os.path.join(out_dir, "state_dict.pt"))
    return {"n_entries": len(entries), "n_parameters": sum(e["numel"] for e in entries if e["kind"] == "parameter"),
            "buffers": sorted(persistent_buffers)}


def save_checkpoints(model, out_dir: str) -> None:
    hp = dict(model.hparams)
    base = {
        "epoch": 0,
        "global_step": 0,
        "pytorch-lightning_version": "stub (torch.save of a dict laid out like a lightning>=2 checkpoint)",
        "state_dict": model.state_dict(),
        "hparams_name": "kwargs",
    }
    faithful = dict(base, hyper_parameters=copy.deepcopy(hp))
    torch.save(faithful, os.path.join(out_dir, "model.ckpt"))

    def plain(v):
        if OmegaConf.is_config(v):
            return OmegaConf.to_container(v, resolve=True)
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    plain_ckpt = dict(base, hyper_parameters={k: plain(v) for k, v in hp.items()})
    torch.save(plain_ckpt, os.path.join(out_dir, "model_plain.ckpt"))


# ----------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", nargs="?", default=DEFAULT_OUT_DIR, help="output folder (created if missing)")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--frames", type=int, default=50, help="time steps of the fixture input (train chunk = 50)")
    ap.add_argument("--mei-steps", type=int, default=10)
    ap.add_argument("--no-onnx", action="store_true")
    ap.add_argument("--npz", action="store_true", help="also write numpy .npz copies of the safetensors files")
    args = ap.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    pin_single_thread()  # fixed reduction order for reproducible fixtures
    t_start = time.time()
    rec = Recorder()
    notes: list[str] = []

    # ---------------- model ----------------
    model, root = hoefling_model.build_model(SRC)
    hoefling_model.perturb_to_trained_like(model)
    model.eval()
    sessions = model.readout.readout_keys()
    n_neg = {k: int((model.readout[k].features < 0).sum()) for k in sessions}
    snapshot = copy.deepcopy(model.state_dict())
    meta = {"openretina_version": str(openretina_source.version_info(SRC).get("version")), "torch": torch.__version__}
    sd_info = save_state(model, args.out_dir, meta, args.npz)
    save_checkpoints(model, args.out_dir)

    c, _, h, w = model.hparams["in_shape"]
    B, T = args.batch, args.frames
    gen = torch.Generator().manual_seed(INPUT_SEED)
    x = torch.randn(B, c, T, h, w, generator=gen)
    rec.t("input/x", x)

    # ---------------- eval forward (+ intermediates) ----------------
    captured: dict[str, torch.Tensor] = {}
    hooks = []
    for i, layer in enumerate(model.core.features):
        hooks.append(layer.conv.register_forward_hook(lambda m, inp, out, i=i: captured.__setitem__(f"layer{i}/conv_out", out.detach().clone())))
        hooks.append(layer.norm.register_forward_hook(lambda m, inp, out, i=i: captured.__setitem__(f"layer{i}/bn_out", out.detach().clone())))
        hooks.append(layer.register_forward_hook(lambda m, inp, out, i=i: captured.__setitem__(f"layer{i}/out", out.detach().clone())))
    with torch.no_grad():
        core_out = model.core(x)
        for k, v in captured.items():
            rec.t(f"eval/core/{k}", v)
        rec.t("eval/core/out", core_out)
        for i, layer in enumerate(model.core.features):
            rec.t(f"weights/layer{i}/weight_temporal", layer.conv.weight_temporal)
            rec.t(f"weights/layer{i}/conv_weight", layer.conv.weight)
        for hk in hooks:
            hk.remove()
        outs = {}
        for k in sessions:
            rec.t(f"readout/{k}/mask", model.readout[k].get_mask())
            outs[k] = model(x, data_key=k)
            rec.t(f"eval/out/{k}", outs[k])
        # data_key=None: all sessions concatenated in sorted key order (with a UserWarning)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec.t("eval/out/all_sessions_concat", model(x, data_key=None))
        # dynamic time length check input
        x40 = torch.randn(1, c, 40, h, w, generator=gen)
        rec.t("input/x_T40", x40)
        rec.t(f"eval/out_T40/{TRAIN_SESSION}", model(x40, data_key=TRAIN_SESSION))
    rec.s("features_negative_count_in_state_dict", n_neg)
    notes.append(
        "GaussianMaskReadout.forward clamps readout features in place (features.data.clamp_(0)) because "
        "positive=True; state_dict has the unclamped values (count above), outputs use the clamped ones."
    )

    # ---------------- losses / regularizers (training_step semantics, train mode) ----------------
    n_out = outs[TRAIN_SESSION].shape[1]
    gen_t = torch.Generator().manual_seed(TARGET_SEED)
    n_neurons = model.readout[TRAIN_SESSION].outdims
    rate = 0.2 + 1.5 * torch.rand(B, T, n_neurons, generator=gen_t)
    targets = torch.poisson(rate, generator=gen_t)
    rec.t(f"train/targets/{TRAIN_SESSION}", targets)

    with torch.no_grad():  # validation_step semantics (eval mode) on the snapshot
        out_eval = outs[TRAIN_SESSION]
        rec.s("val/poisson_loss_sum", model.loss(out_eval, targets))
        rec.s("val/loss_as_logged", model.loss(out_eval, targets) / sum(out_eval.shape))
        rec.s("val/correlation_eval_loss", model.evaluation_loss(out_eval, targets))
        rec.t(f"val/per_neuron_correlation/{TRAIN_SESSION}", model.evaluation_loss._per_neuron_correlations)
        rec.s("reg/core_total", model.core.regularizer())
        rec.s("reg/core/temporal_smoothness_unweighted", model.core.temporal_smoothness())
        rec.s("reg/core/spatial_laplace_unweighted(gamma_input=0)", model.core.spatial_laplace())
        rec.s("reg/core/group_sparsity_unweighted(gamma_hidden=0)", model.core.group_sparsity())
        rec.s("reg/core/group_sparsity_0_unweighted(gamma_in_sparse=0)", model.core.group_sparsity_0())
        for k in sessions:
            ro = model.readout[k]
            rec.s(f"reg/readout/{k}", model.readout.regularizer(k))
            rec.s(f"reg/readout/{k}/mask_l1_sum", ro.mask_l1(average=False))
            rec.s(f"reg/readout/{k}/feature_l1_sum", ro.feature_l1(average=False))
            rec.s(f"reg/readout/{k}/mean_reduction", model.readout.regularizer(k, reduction="mean"))

    model.train()
    model.zero_grad(set_to_none=True)
    out_train = model(x, data_key=TRAIN_SESSION)
    loss = model.loss(out_train, targets)
    reg_core = model.core.regularizer()
    reg_readout = model.readout.regularizer(TRAIN_SESSION)
    total = loss + reg_core + reg_readout
    rec.t(f"train/out/{TRAIN_SESSION}", out_train)
    rec.s("train/poisson_loss_sum", loss)
    rec.s("train/regularization_loss_core", reg_core)
    rec.s("train/regularization_loss_readout", reg_readout)
    rec.s("train/total_loss", total)
    rec.s("train/correlation_eval_loss", model.evaluation_loss(out_train.detach(), targets))
    total.backward()
    named = dict(model.named_parameters())
    for name, p in named.items():
        if p.grad is not None:
            rec.t(f"train/grad/{name}", p.grad)
    rec.s("train/params_without_grad", sorted(n for n, p in named.items() if p.grad is None))
    for i, layer in enumerate(model.core.features):
        rec.t(f"train/bn_after_forward/layer{i}/running_mean", layer.norm.running_mean)
        rec.t(f"train/bn_after_forward/layer{i}/running_var", layer.norm.running_var)
        rec.s(f"train/bn_after_forward/layer{i}/num_batches_tracked", int(layer.norm.num_batches_tracked))
    # Lightning: trainer.gradient_clip_val=1 (clip by global 2-norm), then the configured optimizer
    total_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    rec.s("train/grad_total_norm_before_clip", total_norm)
    rec.s("train/clip_coef", min(1.0, 1.0 / (float(total_norm) + 1e-6)))
    opt_cfg = model.configure_optimizers()
    optimizer = opt_cfg["optimizer"]
    rec.s("train/optimizer", repr(optimizer).replace("\n", " "))
    optimizer.step()
    for name, p in named.items():
        if p.grad is not None:
            rec.t(f"train/param_after_adamw/{name}", p)
    notes.append(
        "train/*: one training_step in train mode (BatchNorm uses batch statistics and updates running stats "
        "with momentum 0.1, unbiased var), total = PoissonLoss3d(sum) + core.regularizer() + "
        "readout.regularizer(session); backward; clip_grad_norm_(all params, 1.0) as Lightning's "
        "gradient_clip_val=1; AdamW(lr=0.01, betas=(0.9,0.999), eps=1e-8, weight_decay=0.01) from "
        "configs/optimizer/adamw.yaml via model.configure_optimizers(). Params of other sessions get no grad "
        "and are not updated (grad None)."
    )

    # ---------------- MEI (OpenRetina's optimize_stimulus, visualize_model_neurons settings) ----------------
    mei_model = UnifiedCoreReadout(**{k: v for k, v in copy.deepcopy(dict(model.hparams)).items()})
    mei_model.load_state_dict(snapshot)
    mei_model.eval()
    stim_shape = (1, c, 50, h, w)
    min_max = [
        (STIMULUS_RANGE_CONSTRAINTS["x_min_green"], STIMULUS_RANGE_CONSTRAINTS["x_max_green"]),
        (STIMULUS_RANGE_CONSTRAINTS["x_min_uv"], STIMULUS_RANGE_CONSTRAINTS["x_max_uv"]),
    ]
    norm = float(STIMULUS_RANGE_CONSTRAINTS["norm"])
    postproc = ChangeNormJointlyClipRangeSeparately(min_max_values=min_max, norm=norm)
    reg_loss = RangeRegularizationLoss(min_max_values=min_max, max_norm=norm, factor=0.1)
    reducer = SliceMeanReducer(axis=0, start=10, length=10)
    objective = IncreaseObjective(mei_model, neuron_indices=MEI_NEURON, data_key=TRAIN_SESSION, response_reducer=reducer)
    gen_m = torch.Generator().manual_seed(MEI_SEED)
    stimulus = torch.randn(stim_shape, generator=gen_m)
    stimulus = postproc.process(stimulus * 0.1).requires_grad_(True)
    rec.t("mei/stimulus_init", stimulus)
    # gradient at the initial stimulus (what one optimisation step uses)
    obj0 = objective.forward(stimulus)
    loss0 = -obj0 + reg_loss.forward(stimulus)
    (g0,) = torch.autograd.grad(loss0, stimulus)
    rec.t("mei/loss_grad_init", g0)
    rec.s("mei/objective_init", obj0)
    rec.s("mei/loss_init", loss0)
    obj0b = objective.forward(stimulus)
    (g0b,) = torch.autograd.grad(obj0b, stimulus)
    rec.t("mei/objective_grad_init", g0b)  # d objective / d stimulus (no regulariser, no sign flip)
    mei_model.zero_grad(set_to_none=True)
    stopper = _LossRecordingStopper(args.mei_steps)
    recorder = _StimulusRecorder()
    optimize_stimulus(
        stimulus,
        partial(torch.optim.SGD, lr=100.0),
        objective,
        stopper,
        stimulus_regularization_loss=reg_loss,
        stimulus_postprocessor=[postproc, recorder],
    )
    rec.t("mei/stimulus_step1", recorder.history[0])
    if len(recorder.history) > 1:
        rec.t("mei/stimulus_step2", recorder.history[1])
    rec.t("mei/stimulus_final", stimulus)
    rec.t("mei/losses_per_iteration", np.asarray(stopper.losses, dtype=np.float32))
    with torch.no_grad():
        resp = mei_model(stimulus, data_key=TRAIN_SESSION)[0, :, MEI_NEURON]
        rec.t("mei/response_final", resp)
        rec.s("mei/objective_final", objective.forward(stimulus))
    rec.s(
        "mei/settings",
        {
            "session": TRAIN_SESSION,
            "neuron": MEI_NEURON,
            "stimulus_shape": list(stim_shape),
            "init": "postproc(0.1*randn) with torch.Generator().manual_seed(%d)" % MEI_SEED,
            "optimizer": "torch.optim.SGD(lr=100.0)",
            "iterations": args.mei_steps,
            "objective": "IncreaseObjective + SliceMeanReducer(axis=0, start=10, length=10) on the 20 output frames",
            "regularizer": f"RangeRegularizationLoss(min_max={min_max}, max_norm={norm}, factor=0.1)",
            "postprocessor": f"ChangeNormJointlyClipRangeSeparately(min_max={min_max}, norm={norm})",
            "source": "openretina/cli/visualize_model_neurons.py settings",
        },
    )

    # ---------------- ONNX ----------------
    onnx_info: dict = {}
    if not args.no_onnx:
        export_model = UnifiedCoreReadout(**copy.deepcopy(dict(model.hparams)))
        export_model.load_state_dict(snapshot)
        export_model.eval()
        wrapper = _SessionForward(export_model, TRAIN_SESSION).eval()
        orig, shim = _einsum_onnx_shim()
        with torch.no_grad():
            ref = wrapper(x)
            torch.einsum = shim
            try:
                shimmed = wrapper(x)
                onnx_path = os.path.join(args.out_dir, f"model_{TRAIN_SESSION}.onnx")
                torch.onnx.export(
                    wrapper,
                    (x,),
                    onnx_path,
                    opset_version=17,
                    input_names=["stimulus"],
                    output_names=["responses"],
                    dynamic_axes={"stimulus": {0: "batch", 2: "time"}, "responses": {0: "batch", 1: "time_out"}},
                    do_constant_folding=True,
                )
            finally:
                torch.einsum = orig
        onnx_info["shim_bit_identical"] = bool(torch.equal(ref, shimmed))
        onnx_info["matches_eval_out"] = bool(torch.equal(ref, outs[TRAIN_SESSION]))
        try:
            import onnx

            mo = onnx.load(onnx_path)
            onnx.checker.check_model(mo, full_check=True)
            from collections import Counter

            onnx_info["checker"] = "ok"
            onnx_info["opset"] = 17
            onnx_info["ops"] = dict(Counter(n.op_type for n in mo.graph.node))
            onnx_info["inputs"] = ["stimulus [batch, 2, time, 18, 16] float32"]
            onnx_info["outputs"] = ["responses [batch, time-30, 35] float32"]
        except Exception as e:  # noqa: BLE001
            onnx_info["checker"] = f"failed: {e!r}"
        onnx_info["expected"] = {"input/x": f"eval/out/{TRAIN_SESSION}", "input/x_T40": f"eval/out_T40/{TRAIN_SESSION}"}

    # ---------------- checkpoint round trip ----------------
    with torch.no_grad():
        reloaded = UnifiedCoreReadout.load_from_checkpoint(os.path.join(args.out_dir, "model.ckpt"))
        reloaded.eval()
        rt = reloaded(x, data_key=TRAIN_SESSION)
    roundtrip_ok = bool(torch.equal(rt, outs[TRAIN_SESSION]))

    # ---------------- write ----------------
    for k, v in rec.scalars.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            rec.tensors[f"scalars/{k}"] = np.asarray(v, dtype=np.float32).reshape(())
    safetensors_np.save_file(rec.tensors, os.path.join(args.out_dir, "fixtures.safetensors"), metadata=meta)
    if args.npz:
        np.savez(os.path.join(args.out_dir, "fixtures.npz"), **rec.tensors)

    # verify the safetensors writers round trip
    for fname, ref_arrays in (("fixtures.safetensors", rec.tensors), ("state_dict.safetensors", None)):
        back, _ = safetensors_np.load_file(os.path.join(args.out_dir, fname))
        if ref_arrays is not None:
            bad = [k for k in ref_arrays if not np.array_equal(back[k], ref_arrays[k], equal_nan=True)]
            assert not bad, bad
        else:
            assert all(np.array_equal(back[k], np32(v)) for k, v in snapshot.items())

    core_out_shape = list(rec.tensors["eval/core/out"].shape)
    manifest = {
        "generator": "reference/pytorch/make_fixtures.py",
        "openretina": openretina_source.version_info(SRC),
        "env": torch_env_info(),
        "torch_num_threads_used": 1,
        "config": {
            "experiment": "configs/hoefling_2024_core_readout_low_res.yaml",
            "model_cfg_resolved": OmegaConf.to_container(root.model, resolve=True),
            "n_neurons_dict": hoefling_model.N_NEURONS_DICT,
            "seed": hoefling_model.SEED,
            "input_shape_per_sample": [c, "T", h, w],
            "core_output_shape_for_input": {"input": list(x.shape), "core_out": core_out_shape},
            "frames_lost_in_core": T - core_out_shape[2],
            "trained_like_perturbation": hoefling_model.perturb_to_trained_like.__doc__,
        },
        "state_dict": sd_info,
        "scalars": rec.scalars,
        "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in rec.tensors.items()},
        "onnx": onnx_info,
        "ckpt_roundtrip_bit_identical": roundtrip_ok,
        "notes": notes,
        "files": {},
        "seconds": round(time.time() - t_start, 1),
    }
    for fn in sorted(os.listdir(args.out_dir)):
        p = os.path.join(args.out_dir, fn)
        if os.path.isfile(p) and fn != "manifest.json":
            with open(p, "rb") as f:
                manifest["files"][fn] = {"bytes": os.path.getsize(p), "sha256": hashlib.sha256(f.read()).hexdigest()}
    with open(os.path.join(args.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, default=str)
    total_bytes = sum(v["bytes"] for v in manifest["files"].values())
    print(f"wrote {len(manifest['files'])} files ({total_bytes / 1e6:.2f} MB) to {args.out_dir}")
    print(json.dumps({k: manifest[k] for k in ("onnx", "ckpt_roundtrip_bit_identical")}, indent=1, default=str))
    print(json.dumps(rec.scalars, indent=1, default=str))


if __name__ == "__main__":
    main()
