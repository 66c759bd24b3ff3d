"""`Resize` for tensors as torchvision >= 0.17 does it (OpenRetina's lock file pins 0.28): bilinear interpolation of the
last two axes with antialiasing (`torch.nn.functional.interpolate(..., antialias=True)`, available in torch 1.13).
Only what OpenRetina's Karamanlis 2024 reader calls; PIL images and other modes are not supported."""

import torch
import torch.nn.functional as F


class Resize:
    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True):
        if isinstance(size, int) or len(size) != 2 or max_size is not None or str(interpolation).lower().split(".")[-1] != "bilinear":
            raise NotImplementedError("torchvision stub: only Resize((h, w)) with bilinear interpolation")
        self.size = [int(size[0]), int(size[1])]
        self.antialias = bool(antialias)

    def __call__(self, img):
        if not isinstance(img, torch.Tensor) or img.ndim < 3:
            raise NotImplementedError("torchvision stub: only tensors (..., H, W)")
        lead = img.shape[:-2]
        x = img.reshape(1, -1, *img.shape[-2:]).to(torch.float32)
        y = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False, antialias=self.antialias)
        return y.reshape(*lead, *self.size)
