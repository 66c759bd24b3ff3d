"""Makes the OpenRetina source named by $OPENRETINA_SRC importable on Debian's python3-torch.

OpenRetina is never copied into this repository: every reference script imports it at run time from
$OPENRETINA_SRC, the root of a checkout of https://github.com/open-retina/open-retina (the folder holding
`openretina/` and `configs/`). The fixtures were made from commit 0aadd97 (version 1.1.1).

Packages OpenRetina imports that Debian 12 does not ship (jaxtyping, einops, hydra-core, lightning,
huggingface_hub, cv2, moviepy, IPython, torchvision) come from the stand-ins in ./pystubs, which are appended to sys.path only
when a real package is missing, so an installed real package always wins.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
STUBS_DIR = os.path.join(HERE, "pystubs")
STUBBED_PACKAGES = ("jaxtyping", "einops", "hydra", "lightning", "huggingface_hub", "cv2", "moviepy", "IPython", "torchvision")


def setup() -> str:
    """Puts $OPENRETINA_SRC (and, where needed, the stubs) on sys.path; returns the absolute source path."""
    src = os.environ.get("OPENRETINA_SRC")
    if not src:
        raise SystemExit(
            "Set OPENRETINA_SRC to the root of an OpenRetina source tree (the folder holding openretina/ and configs/); "
            "see reference/pytorch/README.md"
        )
    src = os.path.abspath(src)
    if not os.path.isdir(os.path.join(src, "openretina")) or not os.path.isdir(os.path.join(src, "configs")):
        raise SystemExit(f"OPENRETINA_SRC={src} has no openretina/ or configs/ folder")
    if src not in sys.path:
        sys.path.insert(0, src)
    if any(importlib.util.find_spec(m) is None for m in STUBBED_PACKAGES) and STUBS_DIR not in sys.path:
        sys.path.append(STUBS_DIR)  # appended: real installed packages win
    # OpenRetina creates a cache folder on import; keep it out of the user's home.
    os.environ.setdefault("OPENRETINA_CACHE_DIRECTORY", os.path.join(tempfile.gettempdir(), "openretina_cache"))
    warnings.filterwarnings("ignore", message="Readout is NOT initialized with mean activity")
    return src


def version_info(src: str) -> dict:
    """Version from pyproject.toml; commit from `git rev-parse` when src is itself a checkout, else $OPENRETINA_COMMIT.
    The machine's path is deliberately not recorded (outputs are committed)."""
    out: dict = {"src": "$OPENRETINA_SRC"}
    commit = os.environ.get("OPENRETINA_COMMIT")
    if not commit:
        try:
            top = subprocess.run(
                ["git", "-C", src, "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=10
            ).stdout.strip()
            if top and os.path.realpath(top) == os.path.realpath(src):  # not some enclosing repository
                commit = (
                    subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
                    .stdout.strip()
                    or None
                )
        except Exception:  # noqa: BLE001 (no git: the commit stays unknown)
            commit = None
    out["commit"] = commit
    try:
        import tomllib

        with open(os.path.join(src, "pyproject.toml"), "rb") as f:
            out["version"] = tomllib.load(f)["project"]["version"]
    except Exception:  # noqa: BLE001 (no pyproject: the version stays unknown)
        pass
    return out
