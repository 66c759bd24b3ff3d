#!/usr/bin/env python3
"""Re-runs the fixture generators into a temporary folder and compares what they write with the committed fixtures.

Usage (Debian's interpreter; setup: README.md in this folder):
    OPENRETINA_SRC=<OpenRetina 1.1.1 source> /usr/bin/python3 reference/pytorch/check_fixtures.py [NAME ...] [--keep DIR]
or `pnpm fixtures:check` from the repository root. Not part of `pnpm test` (CI has no torch).

Each written file is compared with the committed one: "identical" (same bytes), else "within tolerance" (same
structure, same non-float content, every float array within TOLERANCE of the committed one relative to that array's
largest |value|), else "DIFFERENT". The worst relative difference is printed, so "within tolerance" says how close.
Exit status 0 when nothing is DIFFERENT and every generator ran.

Float results depend on the OpenBLAS kernels (chosen by CPU, or by $OPENBLAS_CORETYPE). Each generator records the
kernel family that reproduces the committed bytes; where this CPU can run it (SkylakeX needs AVX-512), the check sets
OPENBLAS_CORETYPE to it, so those fixtures should come out identical; elsewhere expect "within tolerance".
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
import safetensors_np  # noqa: E402

# The loosest parity tolerance of the TypeScript tests (MEI steps: 1e-4 relative to the tensor's max |value|).
TOLERANCE = 1e-4
# The OpenRetina commit the fixtures were made from (recorded in manifests when the source is not a git checkout).
OPENRETINA_COMMIT = "0aadd97d783073ae46e04d1c5dee5fdf82448ac1"


@dataclass
class Generator:
    name: str
    script: str  # repository-relative; called as `python3 script OUT_DIR`
    fixtures: str  # repository-relative folder the generator writes by default
    openretina: bool  # needs $OPENRETINA_SRC
    openblas_core: str | None  # kernel family that reproduces the committed bytes (None: no BLAS-dependent floats)
    volatile_json_keys: tuple[str, ...] = ()  # top-level keys of JSON files that describe the run, not the data
    note: str = ""


GENERATORS = [
    Generator("openretina-1.1.1", "reference/pytorch/make_fixtures.py", "fixtures/openretina-1.1.1", True, "SkylakeX",
              volatile_json_keys=("env", "seconds", "files")),
    Generator("core", "fixtures/core/make_core_fixtures.py", "fixtures/core", True, "SkylakeX"),
    Generator("models", "fixtures/models/make_model_family_fixtures.py", "fixtures/models", True, "SkylakeX"),
    Generator("readout", "fixtures/readout/make_readout_fixtures.py", "fixtures/readout", True, "SkylakeX"),
    Generator("layers", "fixtures/layers/make_layers_fixtures.py", "fixtures/layers", True, "SkylakeX"),
    Generator("trainer", "fixtures/trainer/make_trainer_fixtures.py", "fixtures/trainer", True, "SkylakeX"),
    Generator("hub/legacy", "fixtures/hub/legacy/make_legacy_fixtures.py", "fixtures/hub/legacy", True, "SkylakeX"),
    Generator("hub", "fixtures/hub/make_fixtures.py", "fixtures/hub", False, None),
    Generator("data-io/sridhar_2025_loader", "fixtures/data-io/make_sridhar_loader_fixtures.py",
              "fixtures/data-io/sridhar_2025_loader", True, None),
    Generator("data-io/sta_processing", "fixtures/data-io/make_sta_processing_fixtures.py",
              "fixtures/data-io/sta_processing", True, "Haswell"),
    Generator("experiments/sridhar_2025", "fixtures/experiments/make_sridhar_2025_tiny.py",
              "fixtures/experiments/sridhar_2025", False, None),
    Generator("data-io/datasets", "fixtures/data-io/make_dataset_fixtures.py", "fixtures/data-io/datasets", False, None),
    Generator("data-io/readers", "fixtures/data-io/make_reader_fixtures.py", "fixtures/data-io/readers", True, None),
    Generator("data-io/openretina_pieces", "fixtures/data-io/make_openretina_pieces_fixtures.py",
              "fixtures/data-io/openretina_pieces", True, None),
    Generator("data-io/generic_hdf5", "fixtures/data-io/make_generic_hdf5_fixture.py", "fixtures/data-io/generic_hdf5",
              False, "Haswell"),
    Generator("data-io/npy", "fixtures/data-io/make_npy_fixtures.py", "fixtures/data-io/npy", False, None),
    Generator("insilico/pca", "fixtures/insilico/make_pca_fixture.py", "fixtures/insilico", False, "SkylakeX"),
    Generator("insilico/signal", "fixtures/insilico/make_signal_fixture.py", "fixtures/insilico", False, None,
              volatile_json_keys=("versions",),
              note="committed file made with numpy 2.4.6 / scipy 1.17.1, not Debian's: expect float64 rounding"),
]


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def coretype_for(core: str | None) -> str | None:
    """OPENBLAS_CORETYPE to force, if this CPU can run that kernel family."""
    if core is None:
        return None
    if core == "SkylakeX" and not {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"} <= cpu_flags():
        return None
    if core == "Haswell" and not {"avx2", "fma"} <= cpu_flags():
        return None
    return core.upper()


# ------------------------------------------------------------------------------------------------ comparison
class Worst:
    """Largest |a - b| / max|a| seen over the float arrays of one file."""

    def __init__(self):
        self.rel = 0.0
        self.where = ""

    def update(self, a: np.ndarray, b: np.ndarray, where: str) -> None:
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        if np.array_equal(a64, b64, equal_nan=True):
            return
        same_nan = np.array_equal(np.isnan(a64), np.isnan(b64))
        finite = np.isfinite(a64) & np.isfinite(b64)
        if not same_nan or not np.array_equal(a64[~finite], b64[~finite], equal_nan=True):
            raise Mismatch(f"{where}: non-finite values differ")
        scale = float(np.abs(a64[finite]).max()) if finite.any() else 0.0
        diff = float(np.abs(a64[finite] - b64[finite]).max())
        rel = diff / scale if scale > 0 else float("inf")
        if rel > self.rel:
            self.rel, self.where = rel, where


class Mismatch(Exception):
    pass


def compare_arrays(a, b, where: str, worst: Worst) -> None:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        raise Mismatch(f"{where}: {a.dtype}{list(a.shape)} vs {b.dtype}{list(b.shape)}")
    if a.dtype.kind in "fc":
        worst.update(a, b, where)
    elif not np.array_equal(a, b):
        raise Mismatch(f"{where}: non-float values differ")


def compare_values(a, b, where: str, worst: Worst) -> None:
    """Generic structural comparison (JSON, pickles, checkpoints): floats by tolerance, everything else exactly."""
    import torch

    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        compare_arrays(a.detach().cpu().numpy(), b.detach().cpu().numpy(), where, worst)
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        compare_arrays(a, b, where, worst)
    elif isinstance(a, dict) and isinstance(b, dict):
        if list(a.keys()) != list(b.keys()):
            raise Mismatch(f"{where}: keys differ ({sorted(set(map(str, a)) ^ set(map(str, b)))[:5]})")
        for k in a:
            compare_values(a[k], b[k], f"{where}/{k}", worst)
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and type(a) is type(b):
        if len(a) != len(b):
            raise Mismatch(f"{where}: length {len(a)} vs {len(b)}")
        if a and all(isinstance(v, float) for v in a) and all(isinstance(v, float) for v in b):
            worst.update(np.asarray(a), np.asarray(b), where)  # a list of numbers is one array
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                compare_values(x, y, f"{where}[{i}]", worst)
    elif isinstance(a, float) and isinstance(b, float):
        worst.update(np.asarray([a]), np.asarray([b]), where)
    elif type(a) is not type(b) or a != b:
        if hasattr(a, "__dict__") and type(a) is type(b):  # e.g. omegaconf containers in checkpoints
            compare_values(vars(a), vars(b), where, worst)
        else:
            raise Mismatch(f"{where}: {str(a)[:60]!r} vs {str(b)[:60]!r}")


def load_for_compare(path: Path, volatile: tuple[str, ...]):
    name = path.name
    if name.endswith(".safetensors"):
        tensors, meta = safetensors_np.load_file(str(path))
        return {"tensors": tensors, "metadata": meta}
    if name.endswith(".json"):
        with open(path) as f:
            data = json.load(f)
        if isinstance(data, dict):
            for k in volatile:
                data.pop(k, None)
        return data
    if name.endswith((".npy",)):
        return np.load(path, allow_pickle=False)
    if name.endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    if name.endswith((".h5", ".hdf5", ".mat")):
        import h5py

        out = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda k, v: out.__setitem__(k, v[()]) if isinstance(v, h5py.Dataset) else None)
            out["__attrs__"] = {k: v for k, v in f.attrs.items()}
        return out
    if name.endswith(".zip"):
        with zipfile.ZipFile(path) as z:
            return {i.filename: load_bytes(i.filename, z.read(i)) for i in z.infolist()}
    if name.endswith((".pt", ".ckpt", ".tar")):
        import torch

        return torch.load(path, map_location="cpu")
    if name.endswith(".pkl"):
        return load_bytes(name, path.read_bytes())
    if name.endswith(".onnx"):
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(path))
        return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return path.read_bytes()


def load_bytes(name: str, raw: bytes):
    return pickle.load(io.BytesIO(raw)) if name.endswith((".pkl", ".pickle")) else raw


def compare_file(new: Path, old: Path, volatile: tuple[str, ...]) -> tuple[str, str]:
    if new.read_bytes() == old.read_bytes():
        return "identical", ""
    worst = Worst()
    try:
        compare_values(load_for_compare(old, volatile), load_for_compare(new, volatile), "", worst)
    except Mismatch as e:
        return "DIFFERENT", str(e)
    except Exception as e:  # noqa: BLE001 (unreadable file: report, do not crash the whole check)
        return "DIFFERENT", f"cannot compare: {e!r}"
    if worst.rel > TOLERANCE:
        return "DIFFERENT", f"max rel diff {worst.rel:.2e} at {worst.where or 'the top-level array'}"
    if worst.rel == 0.0:
        return "equal content", "bytes differ, values equal" + (f" (ignoring {', '.join(volatile)})" if volatile else "")
    return "within tolerance", f"max rel diff {worst.rel:.1e} at {worst.where or 'the top-level array'}"


# ------------------------------------------------------------------------------------------------ driver
def run_generator(gen: Generator, out_dir: Path, force_core: bool) -> tuple[bool, str]:
    env = dict(os.environ)
    forced = coretype_for(gen.openblas_core) if force_core else None
    if forced:
        env["OPENBLAS_CORETYPE"] = forced
    env.setdefault("OPENRETINA_COMMIT", OPENRETINA_COMMIT)
    t0 = time.time()
    r = subprocess.run(
        [sys.executable, str(REPO / gen.script), str(out_dir)],
        cwd=out_dir, env=env, capture_output=True, text=True,
    )
    info = f"{time.time() - t0:.1f} s, OpenBLAS kernels: {forced or 'this CPU default'}"
    if r.returncode != 0:
        return False, f"{info}; exit {r.returncode}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}"
    return True, info


def check(gen: Generator, work: Path, force_core: bool) -> list[tuple[str, str, str]]:
    out_dir = work / gen.name.replace("/", "__")
    out_dir.mkdir(parents=True)
    ok, info = run_generator(gen, out_dir, force_core)
    print(f"\n{gen.name}: {gen.script} ({info})" + (f"\n  note: {gen.note}" if gen.note else ""))
    if not ok:
        return [(gen.name, "could not run", info)]
    rows = []
    committed = REPO / gen.fixtures
    for new in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        rel = new.relative_to(out_dir).as_posix()
        old = committed / rel
        if not old.exists():
            status, detail = "DIFFERENT", "written but not committed"
        else:
            status, detail = compare_file(new, old, gen.volatile_json_keys)
        print(f"  {status:16} {rel}" + (f"  ({detail})" if detail else ""))
        rows.append((f"{gen.name}:{rel}", status, detail))
    if not rows:
        rows.append((gen.name, "DIFFERENT", "wrote nothing"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help=f"generators to run (default all): {', '.join(g.name for g in GENERATORS)}")
    ap.add_argument("--keep", help="write into this folder (kept) instead of a temporary one")
    ap.add_argument("--cpu-default-blas", action="store_true",
                    help="do not set OPENBLAS_CORETYPE: what a machine without the recorded kernels gets")
    args = ap.parse_args()
    unknown = set(args.names) - {g.name for g in GENERATORS}
    if unknown:
        raise SystemExit(f"unknown generator(s) {sorted(unknown)}; known: {[g.name for g in GENERATORS]}")
    chosen = [g for g in GENERATORS if not args.names or g.name in args.names]
    if any(g.openretina for g in chosen) and not os.environ.get("OPENRETINA_SRC"):
        raise SystemExit("Set OPENRETINA_SRC to an OpenRetina 1.1.1 source tree (see reference/pytorch/README.md)")
    with tempfile.TemporaryDirectory(prefix="fixtures-check-") as tmp:
        work = Path(args.keep).resolve() if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = [row for g in chosen for row in check(g, work, not args.cpu_default_blas)]
    bad = [r for r in rows if r[1] in ("DIFFERENT", "could not run")]
    counts = {s: sum(1 for r in rows if r[1] == s) for s in dict.fromkeys(r[1] for r in rows)}
    print(f"\n{len(rows)} files: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
