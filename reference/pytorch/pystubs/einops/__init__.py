"""Minimal einops stand-in: rearrange / repeat / reduce / einsum for torch tensors and numpy arrays.

Supports axis names, parenthesised groups on either side, literal "1" axes and "...".
Enough for the patterns used by openretina (e.g. "b c t h w -> (b t) c h w", "s -> c 1 s 1 1").
"""
import functools
import math

import numpy as np

__version__ = "0.0-stub"


class EinopsError(ValueError):
    pass


def _parse_side(side):
    """Returns list of groups; each group is a list of names ('1' for unit axes, '...' for ellipsis)."""
    groups = []
    side = side.strip()
    tokens = side.replace("(", " ( ").replace(")", " ) ").split()
    cur = None
    for tok in tokens:
        if tok == "(":
            if cur is not None:
                raise EinopsError("nested brackets")
            cur = []
        elif tok == ")":
            if cur is None:
                raise EinopsError("unbalanced brackets")
            groups.append(cur)
            cur = None
        else:
            if cur is not None:
                cur.append(tok)
            else:
                groups.append([tok] if tok != "1" else [])
    if cur is not None:
        raise EinopsError("unbalanced brackets")
    return groups


def _is_torch(x):
    return type(x).__module__.startswith("torch")


def _reshape(x, shape):
    return x.reshape(tuple(shape))


def _transpose(x, perm):
    if _is_torch(x):
        return x.permute(*perm)
    return np.transpose(x, perm)


def _expand(x, shape):
    if _is_torch(x):
        return x.expand(*shape)
    return np.broadcast_to(x, shape)


def _prepare(pattern, x, axes_lengths, allow_new):
    left, right = pattern.split("->")
    lg, rg = _parse_side(left), _parse_side(right)
    shape = list(x.shape)
    n_ell_l = sum(g == ["..."] for g in lg)
    if n_ell_l > 1:
        raise EinopsError("only one ellipsis supported")
    if len(lg) - n_ell_l > len(shape) or (n_ell_l == 0 and len(lg) != len(shape)):
        raise EinopsError(f"pattern {left!r} does not match shape {tuple(shape)}")
    # expand ellipsis
    ell_len = len(shape) - (len(lg) - n_ell_l)
    ell_names = [f"__ell{i}" for i in range(ell_len)]

    def expand_ell(groups):
        out = []
        for g in groups:
            if g == ["..."]:
                out.extend([[n] for n in ell_names])
            else:
                out.append(g)
        return out

    lg, rg = expand_ell(lg), expand_ell(rg)
    sizes = dict(axes_lengths)
    for g, dim in zip(lg, shape):
        unknown = [n for n in g if n not in sizes]
        known = math.prod(sizes[n] for n in g if n in sizes)
        if len(unknown) == 0:
            if known != dim:
                raise EinopsError(f"shape mismatch for group {g}: {known} != {dim}")
        elif len(unknown) == 1:
            if dim % known:
                raise EinopsError(f"cannot divide {dim} by {known}")
            sizes[unknown[0]] = dim // known
        else:
            raise EinopsError(f"could not infer sizes for {unknown}")
    left_names = [n for g in lg for n in g]
    right_names = [n for g in rg for n in g]
    new_names = [n for n in right_names if n not in left_names]
    if new_names and not allow_new:
        raise EinopsError(f"new axes {new_names} in rearrange")
    for n in new_names:
        if n not in sizes:
            raise EinopsError(f"size of new axis {n} must be given")
    return lg, rg, left_names, right_names, sizes


def rearrange(tensor, pattern, **axes_lengths):
    if isinstance(tensor, (list, tuple)):
        tensor = np.stack(tensor) if not _is_torch(tensor[0]) else __import__("torch").stack(list(tensor))
    lg, rg, ln, rn, sizes = _prepare(pattern, tensor, axes_lengths, allow_new=False)
    if sorted(ln) != sorted(rn):
        raise EinopsError("rearrange must use the same axes on both sides")
    x = _reshape(tensor, [sizes[n] for n in ln])
    x = _transpose(x, [ln.index(n) for n in rn])
    return _reshape(x, [math.prod(sizes[n] for n in g) for g in rg])


def repeat(tensor, pattern, **axes_lengths):
    lg, rg, ln, rn, sizes = _prepare(pattern, tensor, axes_lengths, allow_new=True)
    x = _reshape(tensor, [sizes[n] for n in ln])
    kept = [n for n in rn if n in ln]
    x = _transpose(x, [ln.index(n) for n in kept])
    # insert singleton dims for new axes, then expand
    inter_shape = [sizes[n] if n in ln else 1 for n in rn]
    x = _reshape(x, inter_shape)
    x = _expand(x, [sizes[n] for n in rn])
    out_shape = [math.prod(sizes[n] for n in g) for g in rg]
    if _is_torch(x):
        return x.contiguous().reshape(out_shape)
    return np.ascontiguousarray(x).reshape(out_shape)


def reduce(tensor, pattern, reduction, **axes_lengths):
    left, right = pattern.split("->")
    lg, rg = _parse_side(left), _parse_side(right)
    right_names = {n for g in rg for n in g}
    lg_flat_names = [n for g in lg for n in g]
    reduced = [n for n in lg_flat_names if n not in right_names]
    inter = left + " -> " + " ".join([n for n in lg_flat_names if n not in reduced] + reduced)
    # rearrange to put reduced axes last (ungrouped)
    lg2, _, ln, _, sizes = _prepare(inter, tensor, axes_lengths, allow_new=False)
    x = _reshape(tensor, [sizes[n] for n in ln])
    kept = [n for n in ln if n not in reduced]
    x = _transpose(x, [ln.index(n) for n in kept + reduced])
    dims = tuple(range(len(kept), len(kept) + len(reduced)))
    if dims:
        if _is_torch(x):
            fn = {"mean": lambda t: t.mean(dim=dims), "sum": lambda t: t.sum(dim=dims),
                  "max": lambda t: t.amax(dim=dims), "min": lambda t: t.amin(dim=dims),
                  "prod": lambda t: functools.reduce(lambda a, d: a.prod(dim=d), sorted(dims, reverse=True), t)}[reduction]
        else:
            fn = {"mean": lambda t: t.mean(axis=dims), "sum": lambda t: t.sum(axis=dims),
                  "max": lambda t: t.max(axis=dims), "min": lambda t: t.min(axis=dims),
                  "prod": lambda t: t.prod(axis=dims)}[reduction]
        x = fn(x)
    return rearrange(x, " ".join(kept) + " -> " + right.strip(), **{k: v for k, v in sizes.items() if k in kept})


def einsum(*args):
    """einops.einsum(t1, t2, ..., "a b, b c -> a c") with multi-letter axis names."""
    *tensors, pattern = args
    left, right = pattern.split("->")
    names = {}
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    def conv(side):
        out = []
        for tok in side.split():
            if tok == "...":
                out.append("...")
            else:
                if tok not in names:
                    names[tok] = next(letters)
                out.append(names[tok])
        return "".join(out)

    eq = ",".join(conv(s) for s in left.split(",")) + "->" + conv(right)
    if _is_torch(tensors[0]):
        import torch
        return torch.einsum(eq, *tensors)
    return np.einsum(eq, *tensors)
