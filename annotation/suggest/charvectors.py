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


def build_vectors(files: list[Path], *, vocab: int = 5000, dims: int = 64, max_chars: int = 30_000_000,
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
    cps = np.frombuffer("\n".join(chunks).encode("utf-32-le"), dtype="<u4")
    del chunks
    counts = np.bincount(cps, minlength=0x110000)
    counts[10] = 0
    top = np.argsort(-counts)[:vocab]
    top = top[counts[top] > 0]
    V = len(top)
    index = np.full(0x110000, -1, dtype=np.int32)
    index[top] = np.arange(V, dtype=np.int32)
    ids = index[cps]
    del cps, index
    M = np.zeros(V * V, dtype=np.float32)  # float32 and in place: ≈ 150 MB at 6,000 characters
    for offset, weight in ((1, 1.0), (2, 0.5)):
        a, b = ids[:-offset], ids[offset:]
        ok = (a >= 0) & (b >= 0)
        a, b = a[ok], b[ok]
        M += weight * np.bincount(a * V + b, minlength=V * V).astype(np.float32)
        M += weight * np.bincount(b * V + a, minlength=V * V).astype(np.float32)
        del a, b, ok
    del ids
    ppmi = M.reshape(V, V)
    row = ppmi.sum(axis=1)
    col = ppmi.sum(axis=0) ** 0.75
    total = col.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        ppmi *= total
        ppmi /= row[:, None]
        ppmi /= col[None, :]
        np.log(ppmi, out=ppmi)
    np.nan_to_num(ppmi, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    np.maximum(ppmi, 0.0, out=ppmi)
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
