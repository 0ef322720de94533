"""Character vectors from the classical texts in ``../shared`` (Kanripo), built at training time.

The tagger sees a few thousand names in CHisIEC's training set; how characters behave in millions
of characters of classical prose (which ones start names, end offices, ...) it can learn only
from a larger text. This module counts, over the Kanripo texts of ``../shared/corpus/kanripo``,
which folded character stands within two positions of which (the ``vocab`` most frequent
characters), weighs the counts by positive pointwise mutual information (context distribution
smoothed by ^0.75) and factorises the matrix (randomised SVD, numpy only): one ``dims``-vector per
character. A few seconds to a minute; nothing is downloaded and nothing but the trained model
(which holds the vectors as its initial embedding) is kept.

Without the Kanripo texts the vectors are ``None`` and the tagger starts from random embeddings.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .normalize import fold

_MARKUP = re.compile(r"<[^>]*>|¶|^#.*$", re.M)
_CJK = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]+")


def kanripo_files(shared: Path | None) -> list[Path]:
    root = shared / "corpus" / "kanripo" if shared else None
    return sorted(root.rglob("*.txt")) if root is not None and root.is_dir() else []


def build_vectors(files: list[Path], *, vocab: int = 6000, dims: int = 64, max_chars: int = 30_000_000,
                  seed: int = 0) -> tuple[str, np.ndarray] | None:
    """(the characters, one per row, as a string; their vectors (len, dims) float32), or None."""
    chunks, total = [], 0
    for path in files:
        text = fold(_MARKUP.sub("", path.read_text(encoding="utf-8", errors="replace")))
        text = _CJK.sub("\n", text)
        chunks.append(text)
        total += len(text)
        if total >= max_chars:
            break
    if total < 100_000:
        return None
    text = "\n".join(chunks)
    cps = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    counts = np.bincount(cps, minlength=0x110000)
    counts[10] = 0
    top = np.argsort(-counts)[:vocab]
    top = top[counts[top] > 0]
    V = len(top)
    index = np.full(0x110000, -1, dtype=np.int64)
    index[top] = np.arange(V)
    ids = index[cps]
    M = np.zeros(V * V, dtype=np.float64)
    for offset, weight in ((1, 1.0), (2, 0.5)):
        a, b = ids[:-offset], ids[offset:]
        ok = (a >= 0) & (b >= 0)
        pair = a[ok] * V + b[ok]
        M += weight * np.bincount(pair, minlength=V * V)
        M += weight * np.bincount(b[ok] * V + a[ok], minlength=V * V)
    M = M.reshape(V, V)
    row = M.sum(axis=1)
    col = M.sum(axis=0) ** 0.75
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(M * col.sum() / (row[:, None] * col[None, :]))
    ppmi = np.nan_to_num(np.maximum(pmi, 0.0), nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
    del M, pmi
    rng = np.random.default_rng(seed)
    Q = ppmi @ rng.standard_normal((V, dims + 16)).astype(np.float32)
    for _ in range(2):  # power iterations
        Q, _r = np.linalg.qr(Q)
        Q = ppmi @ (ppmi.T @ Q)
    Q, _r = np.linalg.qr(Q)
    U, S, _vt = np.linalg.svd(Q.T @ ppmi, full_matrices=False)
    vectors = (Q @ U[:, :dims]) * np.sqrt(S[:dims])[None, :]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-6
    chars = "".join(chr(int(c)) for c in top)
    return chars, vectors.astype(np.float32)
