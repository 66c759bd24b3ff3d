#!/usr/bin/env bash
# Installs what the PyTorch reference scripts need on Debian 12 (bookworm), from Debian's own packages (as root).
# Use /usr/bin/python3 afterwards (not a pyenv/venv python): Debian's python3-* packages live in its dist-packages.
# PyPI is not needed: the packages Debian lacks are covered by ./pystubs (see pystubs/README.md).
# libopenblas0-pthread is named explicitly: python3-torch and python3-numpy accept any libblas.so.3, and the fixtures'
# float bytes were made with OpenBLAS 0.3.21 (see README.md, "Byte-identical or within tolerance").
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  python3-torch python3-numpy python3-scipy python3-h5py python3-onnx python3-omegaconf python3-yaml \
  python3-tqdm python3-matplotlib python3-pandas python3-seaborn python3-tenacity python3-requests \
  libopenblas0-pthread git ca-certificates
/usr/bin/python3 -c "import torch, numpy, scipy, h5py, onnx, omegaconf; print('torch', torch.__version__, 'numpy', numpy.__version__, 'onnx', onnx.__version__, 'omegaconf', omegaconf.__version__)"
