#!/usr/bin/env python3
"""Composed OpenRetina experiment configs, for the TypeScript composer's tests: fixtures/configs/<name>.json.

Usage (Debian's interpreter; python3-omegaconf and python3-yaml, no torch):
    OPENRETINA_SRC=<OpenRetina 1.1.1 source> /usr/bin/python3 reference/pytorch/make_config_fixtures.py [OUT_DIR]

Composes every top-level experiment config of $OPENRETINA_SRC/configs with hydra_compose.py (Hydra's
defaults-list rules on omegaconf) under a fixed clock, working directory and environment, and writes one JSON file
per experiment: the job config and the hydra node, resolved. Experiments that do not compose as they are (a
defaults entry left `???`, a group that does not exist, an interpolation of a missing key) record Hydra's error, and a second composition with the
overrides a user would give.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from hydra_compose import ComposeError, compose  # noqa: E402

DEFAULT_OUT_DIR = HERE.parents[1] / "fixtures" / "configs"
CLOCK = dt.datetime(2025, 1, 2, 3, 4, 5)
CWD = "/cwd"
ENV = {"OPENRETINA_CACHE_DIRECTORY": "/cache", "USER": "tester"}

# Overrides that make an experiment compose when it does not as it is.
REPAIRS = {
    # model/linear_nonlinear_poisson refers to ${optimizer} and ${lr_scheduler}, which its defaults do not load
    "hoefling_2024_core_readout_low_res_lnp": ["+optimizer=adamw", "+lr_scheduler=reduce_lr_on_plateau"],
    "template_outer_config": ["data_io=hdf5_reader", "dataloader=hdf5_loader", "paths.data_dir=test_data"],
    # its defaults name a `scheduler` group that the tree does not have (the schedulers are in lr_scheduler/)
    "hoefling_2024_core_readout_low_res_hyperparams_search": [
        "~scheduler",
        "+lr_scheduler=one_cycle_lr",
        "model.lr_scheduler=${lr_scheduler}",
    ],
}


def main() -> None:
    src = os.environ.get("OPENRETINA_SRC")
    if not src:
        raise SystemExit("Set OPENRETINA_SRC to the root of an OpenRetina source tree (see README.md in this folder)")
    config_dir = os.path.join(os.path.abspath(src), "configs")
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    names = sorted(f[:-5] for f in os.listdir(config_dir) if f.endswith(".yaml"))
    for name in names:
        compositions = []
        for overrides in [[]] + ([REPAIRS[name]] if name in REPAIRS else []):
            try:
                result = compose(config_dir, name, overrides, now=CLOCK, cwd=CWD, env=ENV)
                compositions.append({"overrides": overrides, **result})
            except ComposeError as e:
                compositions.append({"overrides": overrides, "error": str(e)})
        doc = {
            "generator": "reference/pytorch/make_config_fixtures.py",
            "config_name": name,
            "clock": CLOCK.isoformat(),
            "cwd": CWD,
            "env": ENV,
            "compositions": compositions,
        }
        (out_dir / f"{name}.json").write_text(json.dumps(doc, indent=1) + "\n")
        print(name, ["error: " + c["error"] if "error" in c else "ok" for c in compositions])


if __name__ == "__main__":
    main()
