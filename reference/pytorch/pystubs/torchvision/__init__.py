"""Minimal torchvision stand-in: only `transforms.Resize` on tensors (OpenRetina's Karamanlis 2024 stimulus reader)."""

__version__ = "0.0-stub"
