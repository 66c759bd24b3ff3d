import os
import random

import numpy as np
import torch

from .core.module import LightningModule  # noqa: F401


def seed_everything(seed=None, workers=False):
    """Same RNG calls as lightning.fabric.utilities.seed.seed_everything."""
    seed = int(seed)
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    os.environ["PL_SEED_WORKERS"] = f"{int(workers)}"
    return seed


class Trainer:  # pragma: no cover
    def __init__(self, *a, **k):
        raise RuntimeError("lightning.pytorch.Trainer is stubbed out")
