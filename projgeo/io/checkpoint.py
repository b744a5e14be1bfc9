"""Read a checkpoint lazily and find its compressible layers (C3–C5 on real weights).

Formats: ``.safetensors`` (the ``safetensors`` package, numpy framework, no torch), ``.npz``
(numpy; each array is read on access) and, only when torch happens to be installed,
PyTorch ``.pt``/``.pth`` state dicts. Tensors are read one at a time, so memory is bounded
by the largest layer.

A layer is a floating 2-D weight (rows = output features) or 4-D conv kernel (rows = output
channels, flattened to ``c_in·kh·kw``), paired by name with its bias (``….weight`` ↔
``….bias``, PyTorch / Hugging Face naming), which is appended as a last column:
``W = [w_i, b_i]`` (THEORY.md, Setting). Embeddings, norms, 1-D tensors, other ranks and
non-floating tensors are skipped, each with its reason.
"""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

FORMATS = (".safetensors", ".npz", ".pt", ".pth")
#: Name fragments of tensors that are not compressible layers.
EMBEDDING = re.compile(r"(^|[._])(embed\w*|wte|wpe|tok_embeddings|pos_embed\w*)([._]|$)", re.I)
NORM = re.compile(r"(^|[._])(\w*norm\w*|ln_?\w*|bn\d*)([._]|$)", re.I)


class CheckpointError(ValueError):
    """A checkpoint could not be read; the message names the file and tensor."""


class Layer(NamedTuple):
    """A compressible layer: its name, rows ``(n, d[+1])`` and where they came from."""

    name: str
    weight: str
    bias: str | None
    shape: tuple[int, ...]


class Skipped(NamedTuple):
    name: str
    shape: tuple[int, ...]
    reason: str


class Checkpoint:
    """A lazily read checkpoint: ``names()``, ``shape(name)``, ``dtype(name)``, ``load(name)``."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.exists():
            raise CheckpointError(f"{self.path}: no such file.")
        if self.path.is_dir():
            raise CheckpointError(f"{self.path}: is a directory; expected a checkpoint file "
                                  f"with one of the suffixes {', '.join(FORMATS)}.")
        suffix = self.path.suffix.lower()
        if suffix not in FORMATS:
            raise CheckpointError(f"{self.path}: unknown format {suffix or '(no suffix)'!r}; "
                                  f"expected one of {', '.join(FORMATS)}.")
        if self.path.stat().st_size == 0:
            raise CheckpointError(f"{self.path}: empty file.")
        self.format = suffix
        try:
            if suffix == ".safetensors":
                self._open_safetensors()
            elif suffix == ".npz":
                self._open_npz()
            else:
                self._open_torch()
        except CheckpointError:
            raise
        except Exception as e:  # the readers' own exceptions vary by format and version
            raise CheckpointError(f"{self.path}: not a readable {suffix} file ({e}).") from e

    def _open_safetensors(self):
        from safetensors import safe_open

        self._st = safe_open(str(self.path), framework="numpy")
        self._names = list(self._st.keys())
        self._shapes = {n: tuple(self._st.get_slice(n).get_shape()) for n in self._names}
        self._dtypes = {n: str(self._st.get_slice(n).get_dtype()) for n in self._names}

    def _open_npz(self):
        if not zipfile.is_zipfile(self.path):
            raise CheckpointError(f"{self.path}: not a readable .npz file (not a zip archive).")
        self._npz = np.load(self.path, allow_pickle=False)
        self._names = list(self._npz.files)
        self._shapes, self._dtypes = {}, {}
        with zipfile.ZipFile(self.path) as z:
            for n in self._names:
                with z.open(n + ".npy") as f:
                    fmt = np.lib.format
                    major, _ = fmt.read_magic(f)
                    read = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
                    shape, _, dtype = read(f)
                self._shapes[n], self._dtypes[n] = tuple(shape), str(dtype)

    def _open_torch(self):
        try:
            import torch  # pyright: ignore[reportMissingImports] (optional, never a dependency)
        except ImportError as e:
            raise CheckpointError(
                f"{self.path}: reading {self.format} needs PyTorch, which is not installed "
                "(projgeo never depends on it). Convert the state dict to .safetensors, or "
                "install torch."
            ) from e
        state = torch.load(self.path, map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise CheckpointError(f"{self.path}: expected a state dict, got {type(state)}.")
        self._torch = {k: v for k, v in state.items() if hasattr(v, "shape")}
        self._names = list(self._torch)
        self._shapes = {n: tuple(v.shape) for n, v in self._torch.items()}
        self._dtypes = {n: str(v.dtype).removeprefix("torch.") for n, v in self._torch.items()}

    def names(self) -> list[str]:
        return list(self._names)

    def shape(self, name: str) -> tuple[int, ...]:
        return self._shapes[name]

    def dtype(self, name: str) -> str:
        return self._dtypes[name]

    def load(self, name: str) -> np.ndarray:
        """Read one tensor as a numpy array; NaN/Inf raise a CheckpointError naming it."""
        try:
            if self.format == ".safetensors":
                x = self._st.get_tensor(name)
            elif self.format == ".npz":
                x = self._npz[name]
            else:
                x = self._torch[name].float().numpy()
        except Exception as e:
            raise CheckpointError(f"{self.path}: tensor {name!r} could not be read ({e}).") from e
        x = np.asarray(x)
        if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
            raise CheckpointError(f"{self.path}: tensor {name!r} contains NaN or Inf.")
        return x


def _is_float(dtype: str) -> bool:
    d = dtype.lower()
    return d.startswith(("f", "float", "bf")) or d in ("half", "double")


def find_layers(ckpt: Checkpoint, pattern: str | None = None):
    """Split the tensors into compressible layers and skipped tensors (with reasons).

    Args:
      ckpt: an open :class:`Checkpoint`.
      pattern: optional regular expression; only layers whose name matches
        (``re.search``) are kept, the rest are listed as skipped.

    Returns:
      ``(layers, skipped)``: lists of :class:`Layer` and :class:`Skipped`.
    """
    rx = re.compile(pattern) if pattern else None
    names = ckpt.names()
    biases = {n for n in names if n.endswith(".bias")}
    layers, skipped, used_bias = [], [], set()
    for name in names:
        shape = ckpt.shape(name)
        base = name.removesuffix(".weight")
        if name in biases and base.removesuffix(".bias") + ".weight" in names:
            continue  # reported with its weight
        reason = None
        if not _is_float(ckpt.dtype(name)):
            reason = f"dtype {ckpt.dtype(name)} is not floating point"
        elif len(shape) == 1:
            reason = "1-D tensor (bias, norm scale or buffer)"
        elif len(shape) not in (2, 4):
            reason = f"rank {len(shape)}: only 2-D linear and 4-D conv weights are layers"
        elif EMBEDDING.search(name):
            reason = "embedding"
        elif NORM.search(name):
            reason = "normalisation layer"
        elif min(shape) == 0:
            reason = "empty tensor"
        elif rx is not None and not rx.search(base):
            reason = f"does not match --layers {pattern!r}"
        if reason:
            skipped.append(Skipped(name, shape, reason))
            continue
        bias = base + ".bias" if name.endswith(".weight") else None
        if bias not in biases or ckpt.shape(bias) != (shape[0],):
            bias = None
        if bias:
            used_bias.add(bias)
        d = int(np.prod(shape[1:])) + (bias is not None)
        layers.append(Layer(base, name, bias, (shape[0], d)))
    for b in sorted(biases - used_bias):
        if b.removesuffix(".bias") + ".weight" in names:
            skipped.append(Skipped(b, ckpt.shape(b), "bias of a skipped weight"))
    return layers, skipped


def layer_shape(ckpt: Checkpoint, layer: Layer) -> tuple[int, int]:
    """``layer_rows(ckpt, layer).shape`` from the checkpoint's header, without reading data."""
    shape = ckpt.shape(layer.weight)
    return shape[0], math.prod(shape[1:]) + (layer.bias is not None)


def layer_rows(ckpt: Checkpoint, layer: Layer, dtype=np.float64) -> np.ndarray:
    """The ``(n, d)`` row matrix of a layer: flattened weight, bias appended as a column."""
    w = ckpt.load(layer.weight).astype(dtype, copy=False)
    w = w.reshape(w.shape[0], -1)
    if layer.bias is not None:
        w = np.concatenate([w, ckpt.load(layer.bias).astype(dtype)[:, None]], axis=1)
    return w


def example_checkpoint(path, *, seed: int = 0) -> Path:
    """Write a small Hugging Face-style ``.safetensors`` checkpoint (for docs and tests).

    An embedding, two norms, an MLP block with and without biases, a conv layer and an
    LM head, drawn from ``numpy.random.default_rng(seed)``.
    """
    import safetensors.numpy

    rng = np.random.default_rng(seed)

    def f32(*shape):
        return rng.normal(size=shape).astype(np.float32)

    state = {
        "model.embed_tokens.weight": f32(64, 16),
        "model.layers.0.input_layernorm.weight": f32(16),
        "model.layers.0.mlp.up_proj.weight": f32(48, 16),
        "model.layers.0.mlp.up_proj.bias": f32(48),
        "model.layers.0.mlp.down_proj.weight": f32(16, 48),
        "model.conv.weight": f32(24, 4, 3, 3),
        "model.conv.bias": f32(24),
        "model.norm.weight": f32(16),
        "lm_head.weight": f32(64, 16),
    }
    path = Path(path)
    safetensors.numpy.save_file(state, path)
    return path
