"""What a reference run records about its interpreter and machine (manifests, bench and training results)."""

from __future__ import annotations

import platform
import sys


def torch_env_info() -> dict:
    import numpy
    import torch

    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "torch_num_threads": torch.get_num_threads(),
        "torch_parallel_info": torch.__config__.parallel_info().strip().splitlines()[:6],
        "mkldnn_enabled": torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled,
        # OpenBLAS picks its kernels by CPU (or $OPENBLAS_CORETYPE); float results, and so fixture bytes, depend on it.
        "openblas_core": openblas_core(),
    }


def openblas_core() -> str | None:
    """The OpenBLAS kernel family in use (e.g. "SkylakeX", "Haswell"), None when the BLAS is not OpenBLAS."""
    import ctypes

    try:
        lib = ctypes.CDLL("libblas.so.3")
        get = lib.openblas_get_corename
    except (OSError, AttributeError):
        return None
    get.restype = ctypes.c_char_p
    return get().decode()


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def pin_single_thread() -> None:
    """One thread for torch and OpenBLAS: how many threads split a reduction changes float rounding, so fixtures
    written this way do not depend on the machine's core count (with 4 threads some gradients move by ~1e-4)."""
    import ctypes

    import torch

    torch.set_num_threads(1)
    try:
        ctypes.CDLL("libblas.so.3").openblas_set_num_threads(1)
    except (OSError, AttributeError):
        pass  # not OpenBLAS: nothing to pin
