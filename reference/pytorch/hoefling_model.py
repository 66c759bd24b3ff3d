"""The model of OpenRetina's `configs/hoefling_2024_core_readout_low_res.yaml`, built with OpenRetina's own classes.

Used by make_fixtures.py (fixtures/openretina-1.1.1), bench_torch.py and train_reference.py. Hydra is not installed
(Debian has no package for it), so the config is composed here by hand the way Hydra composes it for `train`.
Call openretina_source.setup() before anything here.
"""

from __future__ import annotations

import os

# Made-up sessions (the real Hoefling 2024 data has many sessions of a few dozen neurons each).
N_NEURONS_DICT = {"session_1": 20, "session_2": 35, "session_3": 50}
SEED = 42  # `seed: 42` in hoefling_2024_core_readout_low_res.yaml


def compose_model_config(src: str):
    """Rebuilds what Hydra composes for `cfg.model` of hoefling_2024_core_readout_low_res.yaml:
    defaults model=base_core_readout, optimizer=adamw, lr_scheduler=reduce_lr_on_plateau, then the
    top-level `model:` override (in_shape), then resolution of ${optimizer}/${lr_scheduler}."""
    from omegaconf import OmegaConf

    cfg_dir = os.path.join(src, "configs")
    top = OmegaConf.load(os.path.join(cfg_dir, "hoefling_2024_core_readout_low_res.yaml"))
    defaults = {}
    for entry in top.defaults:
        if isinstance(entry, str):
            continue
        for k, v in entry.items():
            defaults[k] = v
    root = OmegaConf.create(
        {
            "model": OmegaConf.load(os.path.join(cfg_dir, "model", f"{defaults['model']}.yaml")),
            "optimizer": OmegaConf.load(os.path.join(cfg_dir, "optimizer", f"{defaults['optimizer']}.yaml")),
            "lr_scheduler": OmegaConf.load(os.path.join(cfg_dir, "lr_scheduler", f"{defaults['lr_scheduler']}.yaml")),
            "dataloader": OmegaConf.load(os.path.join(cfg_dir, "dataloader", f"{defaults['dataloader']}.yaml")),
        }
    )
    root = OmegaConf.merge(root, {"model": top.model, "dataloader": top.dataloader})
    return top, root, defaults


def build_model(src: str, n_neurons_dict=None, seed: int = SEED, mean_activity: bool = True):
    """Builds UnifiedCoreReadout as openretina.cli.train does:
    `UnifiedCoreReadout(data_info=data_info, **cfg.model)` after `seed_everything(cfg.seed)`.

    data_info mimics openretina.data_io.base.compute_data_info; mean_activity_dict (used to initialise
    the readout biases) is made up, drawn from a separate generator so the model's RNG stream
    matches a plain seed_everything(seed) + construction."""
    import lightning
    import torch
    from omegaconf import OmegaConf
    from openretina.models.core_readout import UnifiedCoreReadout

    n_neurons_dict = dict(n_neurons_dict or N_NEURONS_DICT)
    top, root, _ = compose_model_config(src)
    cfg_model = root.model
    cfg_model.n_neurons_dict = n_neurons_dict
    in_shape = list(cfg_model.in_shape)
    data_info = {
        "n_neurons_dict": n_neurons_dict,
        "input_shape": (in_shape[0], in_shape[2], in_shape[3]),
        "sessions_kwargs": {k: {} for k in n_neurons_dict},
        "stim_mean": 0.0,
        "stim_std": 1.0,
        **OmegaConf.to_container(top.data_io.data_info, resolve=False),
    }
    data_info["stimulus_class"] = "natural"  # resolves ${data_io.responses.response_type}
    if mean_activity:
        g = torch.Generator().manual_seed(seed + 1000)
        data_info["mean_activity_dict"] = {
            k: (0.05 + 0.3 * torch.rand(n, generator=g)).float() for k, n in n_neurons_dict.items()
        }
    lightning.seed_everything(seed)
    model = UnifiedCoreReadout(data_info=data_info, **cfg_model)
    return model, root


# The docstring below is recorded verbatim in fixtures/openretina-1.1.1/manifest.json (config.trained_like_perturbation):
# edit it only together with a regenerated manifest.
def perturb_to_trained_like(model, seed: int = SEED + 1, bn_warmup_batches: int = 8, chunk: int = 50):
    """Deterministically moves the freshly initialised weights to a 'trained-looking' state so that
    parity fixtures exercise every parameter (fresh init has all Gaussian masks at the centre with
    identical variance, tiny 0.01-scale conv weights, BN stats at 0/1):
      * conv weight_spatial x 8, sin/cos temporal weights x 10
      * BN affine weight ~ 1 + 0.1 N(0,1), BN bias and Bias3DLayer ~ 0.1 N(0,1)
      * readout mask_mean ~ U(-0.12, 0.12) (x gaussian_mean_scale=6 in grid units),
        mask_log_var ~ U(-0.6, 0.05) (x gaussian_var_scale=4), scale_param ~ 1 + 0.1 N,
        features ~ U(0, 0.4) with ~5% set to -U(0, 0.05) (forward() clamps those to 0 in place),
        bias += 0.2 N
      * BN running stats: `bn_warmup_batches` train-mode no-grad forwards of N(0,1) inputs
        (batch 4, `chunk` frames), i.e. the real momentum-0.1 update. num_batches_tracked ends at
        bn_warmup_batches + 1: UnifiedCoreReadout.__init__ already ran one train-mode probe forward on zeros
        (compute_readout_input_shape), which left running_var = 0.9 and num_batches_tracked = 1.
    _log_speed_default buffers stay 0 (they are buffers and never trained)."""
    import torch

    g = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g)

    with torch.no_grad():
        for layer in model.core.features:
            conv = layer.conv
            conv.weight_spatial.mul_(8.0)
            conv.sin_weights.mul_(10.0)
            conv.cos_weights.mul_(10.0)
            layer.norm.weight.copy_(1.0 + 0.1 * randn(*layer.norm.weight.shape))
            layer.norm.bias.copy_(0.1 * randn(*layer.norm.bias.shape))
            layer.bias.bias.copy_(0.1 * randn(*layer.bias.bias.shape))
        for key in model.readout.readout_keys():
            ro = model.readout[key]
            n = ro.outdims
            ro.mask_mean.copy_((torch.rand(n, 2, generator=g) - 0.5) * 0.24)
            ro.mask_log_var.copy_(torch.rand(n, generator=g) * 0.65 - 0.6)
            ro.scale_param.copy_(1.0 + 0.1 * randn(n))
            feats = 0.4 * torch.rand(*ro.features.shape, generator=g)
            neg = torch.rand(*ro.features.shape, generator=g) < 0.05
            feats[neg] = -0.05 * torch.rand(int(neg.sum()), generator=g)
            ro.features.copy_(feats)
            ro.bias.add_(0.2 * randn(n))
        was_training = model.training
        model.train()
        c, _, h, w = model.hparams["in_shape"]
        for _ in range(bn_warmup_batches):
            model.core(randn(4, c, chunk, h, w))  # updates the BN running stats only
        model.train(was_training)
    return model
