"""The suggestion model: a character tagger on numpy arrays (thinc), no spaCy Doc.

Every code point is one position; offsets are code points into the line by construction.

Input features per character, computed for a whole batch of lines at once (the lines are joined
with newlines and folded once, traditional→simplified; a newline is the boundary every line sees):

    0  the folded character            3  the folded trigram (previous, this, next)
    1  the bigram (previous, this)     4  the gazetteer match here: label × B/I/E/S, and whether
    2  the bigram (this, next)            the training corpus confirms the term
                                       5  inside 《…》 / a bracket / neither
    6  the row of the folded character in the character vectors (:mod:`.charvectors`), 0 if none
    7  every gazetteer term over this character, not only the leftmost-longest: a bit set of
       label × (begins, inside, ends, is) × (confirmed by the training corpus or not) — the model
       chooses between overlapping candidates (the "soft lexicon" of Chinese NER)

Network (thinc, numpy ops): a hashed embedding per feature (``HashEmbed``, four hashed rows
summed), concatenated and reduced by a maxout layer; ``depth`` residual convolution layers
(window ±1 character each, maxout, layer-normalised); softmax over the BIOES tags of PER, LOC,
OFI, BOOK. The sentence boundaries of a batch are padded so no window crosses lines.

Decoding: Viterbi over the BIOES constraints (B/I must be followed by I/E of the same label, a
span opens with B or S) on the log-probabilities. Positions the network is sure are outside any
entity (P(O) ≥ ``O_SURE``) are fixed to O, so Viterbi runs only over the short stretches
between them (most of a text), which keeps decoding out of the way of throughput.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .corpus import NER_LABELS, spans_to_bioes
from .gazetteer import Gazetteer
from .normalize import fold

TAGS = ("O",) + tuple(f"{p}-{label}" for label in NER_LABELS for p in "BIES")
TAG_INDEX = {t: i for i, t in enumerate(TAGS)}
N_TAGS = len(TAGS)
N_FEATURES = 8
O_SURE = 0.995
WEIGHTS_FILE = "tagger.bin"
CONFIG_FILE = "tagger.json"
_SPACE = re.compile(r"\s")
_GAZ_LABEL = {label: i for i, label in enumerate(NER_LABELS)}


def _allowed() -> np.ndarray:
    """allowed[a, b]: tag b may follow tag a (BIOES)."""
    ok = np.zeros((N_TAGS, N_TAGS), dtype=bool)
    for a, ta in enumerate(TAGS):
        for b, tb in enumerate(TAGS):
            pa, _, la = ta.partition("-")
            pb, _, lb = tb.partition("-")
            if pa in ("B", "I"):
                ok[a, b] = pb in ("I", "E") and la == lb
            else:
                ok[a, b] = pb in ("O", "B", "S")
    return ok


ALLOWED = _allowed()
TRANS = np.where(ALLOWED, 0.0, -1e4).astype(np.float32)
START = np.array([0.0 if t[0] in "OBS" else -1e4 for t in TAGS], dtype=np.float32)
END = np.array([0.0 if t[0] in "OES" else -1e4 for t in TAGS], dtype=np.float32)


# -- features ---------------------------------------------------------------------------------------


def codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)


def features(texts: list[str], gazetteer: Gazetteer | None, vocab: np.ndarray | None = None) -> list[np.ndarray]:
    """One (len(line), N_FEATURES) uint64 array per line. ``vocab`` (code point → row of the
    character vectors, 0 for none) fills column 6."""
    joined = "\n".join(texts)
    folded = fold(joined)
    n = len(joined)
    c = codepoints(folded)
    prev = np.empty_like(c)
    nxt = np.empty_like(c)
    if n:
        prev[0] = 10
        prev[1:] = c[:-1]
        nxt[-1] = 10
        nxt[:-1] = c[1:]
    X = np.empty((n, N_FEATURES), dtype=np.uint64)
    X[:, 0] = c
    X[:, 1] = (prev << np.uint64(21)) | c
    X[:, 2] = (c << np.uint64(21)) | nxt | np.uint64(1 << 62)
    X[:, 3] = (prev << np.uint64(42)) | (c << np.uint64(21)) | nxt
    if gazetteer is not None and len(gazetteer):
        X[:, 4], X[:, 7] = _gazetteer_columns(folded, gazetteer)
    else:
        X[:, 4] = X[:, 7] = 0
    book = np.zeros(n, dtype=np.uint64)
    if "《" in joined:
        depth = 0
        for i, ch in enumerate(joined):  # only lines with titles pay for this loop
            if ch == "《":
                book[i] = 2
                depth += 1
            elif ch == "》":
                book[i] = 2
                depth = max(0, depth - 1)
            elif ch == "\n":
                depth = 0
            elif depth:
                book[i] = 1
    X[:, 5] = book
    if vocab is not None and n:
        X[:, 6] = vocab[c.astype(np.int64)]
    else:
        X[:, 6] = 0
    out = []
    pos = 0
    for text in texts:
        out.append(X[pos : pos + len(text)])
        pos += len(text) + 1
    return out


def _automaton(gazetteer: Gazetteer):
    """Every term with (length, label index, confirmed by the training corpus), built once per
    gazetteer (the tagger's own: the gazetteer's automaton carries no confirmation)."""
    import ahocorasick

    key = (len(gazetteer.terms), id(gazetteer.terms))
    cached = getattr(gazetteer, "_tagger_aho", None)
    if cached is None or cached[0] != key:
        confirmed = gazetteer.confirmed_terms()
        automaton = ahocorasick.Automaton()
        for term, label in gazetteer.terms.items():
            if len(term) >= 2:
                automaton.add_word(term, (len(term), _GAZ_LABEL.get(label, 0), term in confirmed))
        if len(automaton):
            automaton.make_automaton()
        cached = (key, automaton if len(automaton) else None)
        gazetteer._tagger_aho = cached
    return cached[1]


def _gazetteer_columns(folded: str, gazetteer: Gazetteer) -> tuple[np.ndarray, np.ndarray]:
    """Columns 4 and 7 from one pass of the automaton: the leftmost-longest match (what
    :meth:`Gazetteer.match` gives) and the bit set of every match."""
    n = len(folded)
    gaz = np.zeros(n, dtype=np.uint64)
    bits = np.zeros(n, dtype=np.uint64)
    automaton = _automaton(gazetteer)
    if automaton is None:
        return gaz, bits
    best: dict[int, tuple[int, int, bool]] = {}
    for end, (length, label, confirmed) in automaton.iter(folded):
        start = end - length + 1
        held = best.get(start)
        if held is None or length > held[0]:
            best[start] = (length, label, confirmed)
        base = 8 * label + (4 if confirmed else 0)
        bits[start] |= np.uint64(1 << base)
        if length > 2:
            bits[start + 1 : end] |= np.uint64(1 << (base + 1))
        bits[end] |= np.uint64(1 << (base + 2))
    pos = 0
    for start in sorted(best):
        if start >= pos:
            length, label, confirmed = best[start]
            code = 1 + 4 * label + (20 if confirmed else 0)
            gaz[start] = code
            gaz[start + 1 : start + length - 1] = code + 1
            gaz[start + length - 1] = code + 2
            pos = start + length
    return gaz, bits


def gold_tags(length: int, spans) -> np.ndarray:
    return np.array([TAG_INDEX[t] for t in spans_to_bioes(length, spans)], dtype=np.int32)


# -- network ----------------------------------------------------------------------------------------


def _fast_ops():
    """thinc's numpy ops with matrix products by numpy (OpenBLAS): 2.4× faster than thinc's own
    blis ``gemm`` on this network's shapes (16,000 × 192 by 192 × 64: 5.8 ms against 14.0 ms of
    one core's CPU), and the products are most of the network's time."""
    from thinc.api import NumpyOps

    class MatmulOps(NumpyOps):
        name = "numpy-matmul"

        def gemm(self, x, y, *, out=None, trans1=False, trans2=False):
            a = x.T if trans1 else x
            b = y.T if trans2 else y
            if out is None:
                return np.matmul(a, b)
            np.matmul(a, b, out=out)
            return out

    return MatmulOps()


_BLAS = None


def _one_blas_thread():
    """OpenBLAS on one thread while the tagger runs: its threads spin on products this small
    (measured: 56,000 chars per CPU-second with them, 101,000 without, same text and load)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def use_fast_ops(model) -> None:
    ops = _fast_ops()
    for node in model.walk():
        node.ops = ops



def dilated_window(dilation: int):
    """thinc layer, Ragged (n, w) → Ragged (n, 3w): each row beside the rows ``dilation`` before and
    after it in its own sequence (zeros past either end) — ``expand_window(1)`` with a stride.
    Sequences are never padded: no row sees another sequence, and no padding rows cost time."""
    from thinc.api import Model
    from thinc.types import Ragged

    def forward(model, X, is_train):
        data, lengths = X.dataXd, X.lengths
        n, w = data.shape
        d = dilation
        lengths_np = np.asarray(lengths, dtype=np.int64)
        starts = np.cumsum(lengths_np) - lengths_np
        pos = np.arange(n, dtype=np.int64) - np.repeat(starts, lengths_np)
        left_bad = np.flatnonzero(pos < d)  # no row d before in the same sequence
        right_bad = np.flatnonzero(pos >= np.repeat(lengths_np, lengths_np) - d)
        out = np.empty((n, 3 * w), dtype=data.dtype)
        out[:, w : 2 * w] = data
        if n > d:
            out[d:, :w] = data[:-d]
            out[:-d, 2 * w :] = data[d:]
        out[left_bad, :w] = 0.0
        out[right_bad, 2 * w :] = 0.0

        def backprop(dY):
            g = dY.dataXd
            dX = g[:, w : 2 * w].copy()
            left = g[:, :w].copy()
            left[left_bad] = 0.0
            right = g[:, 2 * w :].copy()
            right[right_bad] = 0.0
            if n > d:
                dX[:-d] += left[d:]
                dX[d:] += right[:-d]
            return Ragged(dX, lengths)

        return Ragged(out, lengths), backprop

    return Model(f"dilated_window({dilation})", forward)


def build_model(width: int = 64, depth: int = 3, rows: int = 30000, dropout: float = 0.1, vectors: int = 0,
                vocab_size: int = 0, pieces: int = 2, embed: str = "sum", lexicon: bool = True,
                dilations: list[int] | None = None):
    """``embed="sum"``: the feature embeddings are added (all ``width`` wide), no mixing layer —
    the cheap form; ``"concat"``: concatenated and mixed by a maxout layer (ADR 0023 compares).

    ``dilations`` (one per layer, e.g. ``[1, 2, 4]``; ``depth`` is then ignored): each convolution
    layer sees the rows that far before and after (:func:`dilated_window`), so three layers see
    ±7 characters instead of ±3, for the same work per character. ``None``: the ±1 windows of
    ADR 0023 (models saved before amendment 3 have no ``dilations`` and load as they were)."""
    from thinc.api import (Dropout, Embed, HashEmbed, LayerNorm, Maxout, Relu, Softmax, add, chain, clone, concatenate,
                           expand_window, residual, with_array)

    small = width if embed == "sum" else width // 4
    embeds = [
        HashEmbed(width, rows, column=0, seed=11),
        HashEmbed(width, rows, column=1, seed=12),
        HashEmbed(width, rows, column=2, seed=13),
        HashEmbed(width, rows, column=3, seed=14),
        HashEmbed(small, 128, column=4, seed=15),
        HashEmbed(small, 16, column=5, seed=16),
    ]
    n_in = width * 4 + small * 2
    if lexicon:
        embeds.append(HashEmbed(small, 2048, column=7, seed=17))
        n_in += small
    if vectors:
        if embed == "sum" and vectors != width:
            raise ValueError("summed embeddings need character vectors as wide as the network")
        embeds.append(Embed(vectors, vocab_size + 1, column=6, dropout=None))
        n_in += vectors
    if embed == "sum":
        mixed = chain(add(*embeds), LayerNorm(width), Dropout(dropout))
    else:
        mixed = chain(concatenate(*embeds), Maxout(width, n_in, nP=3, normalize=True, dropout=dropout))
    if pieces == 1:  # a rectifier: half the multiplications of two maxout pieces
        def layer():
            return Relu(width, width * 3, normalize=True, dropout=dropout)
    else:
        def layer():
            return Maxout(width, width * 3, nP=pieces, normalize=True, dropout=dropout)
    if dilations:
        from thinc.api import list2ragged, ragged2list

        encode = chain(*[residual(chain(dilated_window(d), with_array(layer()))) for d in dilations])
        model = chain(list2ragged(), with_array(mixed), encode, with_array(Softmax(N_TAGS, width)), ragged2list())
    else:
        encode = clone(residual(chain(expand_window(window_size=1), layer())), depth)
        model = with_array(chain(mixed, encode, Softmax(N_TAGS, width)), pad=depth)
    use_fast_ops(model)
    return model


# -- decoding ---------------------------------------------------------------------------------------


def viterbi(logp: np.ndarray) -> np.ndarray:
    """Best BIOES-valid tag sequence for one stretch (logp: (n, N_TAGS))."""
    n = len(logp)
    score = START + logp[0]
    back = np.empty((n, N_TAGS), dtype=np.int16)
    for i in range(1, n):
        cand = score[:, None] + TRANS
        back[i] = cand.argmax(axis=0)
        score = cand[back[i], np.arange(N_TAGS)] + logp[i]
    score = score + END
    tags = np.empty(n, dtype=np.int16)
    tags[-1] = int(score.argmax())
    for i in range(n - 1, 0, -1):
        tags[i - 1] = back[i, tags[i]]
    return tags


def decode(probs: np.ndarray) -> list[tuple[int, int, str]]:
    """Spans of one line from its tag probabilities."""
    if not len(probs):
        return []
    unsure = probs[:, 0] < O_SURE
    if not unsure.any():
        return []
    logp = np.log(np.maximum(probs, 1e-9))
    idx = np.flatnonzero(unsure)
    # stretches of consecutive unsure positions
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]])) + 1
    spans = []
    for a, b in zip(starts.tolist(), ends.tolist()):
        tags = viterbi(logp[a:b]) if b - a > 1 else _single(logp[a])
        spans += _spans(tags, a)
    return spans


def decode_batch(probs: list[np.ndarray]) -> list[list[tuple[int, int, str]]]:
    """:func:`decode` for many lines at once, exactly. The best tag of every position (argmax,
    one array operation for the batch) is the Viterbi path wherever it is a valid BIOES
    sequence, which it nearly always is; only lines where it is not are decoded by Viterbi."""
    out: list[list[tuple[int, int, str]]] = [[] for _ in probs]
    if not probs:
        return out
    sep = np.zeros((1, N_TAGS), dtype=np.float32)
    sep[0, 0] = 1.0
    lengths = np.array([len(p) for p in probs])
    starts = np.concatenate(([1], np.cumsum(lengths + 1)[:-1] + 1))  # each line after one O row
    stacked = np.concatenate([sep] + [x for p in probs for x in (p, sep)])
    tags = stacked.argmax(axis=1)
    bad = np.flatnonzero(~ALLOWED[tags[:-1], tags[1:]])
    if len(bad):
        _repair(stacked, tags, bad)
    line = 0
    start = None
    ends = (starts + lengths).tolist()
    starts = starts.tolist()  # Python ints: offsets go into JSON
    for i in np.flatnonzero(tags).tolist():
        while i >= ends[line]:
            line += 1
            start = None
        tag = TAGS[tags[i]]
        p = tag[0]
        if p == "S":
            out[line].append((i - starts[line], i - starts[line] + 1, tag[2:]))
        elif p == "B":
            start = i
        elif p == "E" and start is not None:
            out[line].append((start - starts[line], i - starts[line] + 1, tag[2:]))
            start = None
    return out


def _repair(stacked: np.ndarray, tags: np.ndarray, bad: np.ndarray) -> None:
    """Viterbi, in place, over the stretches around invalid transitions: a stretch runs between
    positions sure to be O (P(O) ≥ O_SURE; the rows between lines are), which fix the path on
    either side. All such stretches are decoded together, one array step per position of the
    longest in a group of similar lengths."""
    sure = stacked[:, 0] >= O_SURE
    sure_idx = np.flatnonzero(sure)
    # for each invalid transition (i, i+1): the sure-O positions around it
    left = sure_idx[np.searchsorted(sure_idx, bad, side="right") - 1]
    right = sure_idx[np.searchsorted(sure_idx, bad + 1, side="left")]
    stretches = sorted(set(zip((left + 1).tolist(), right.tolist())))  # [a, b): unsure in between
    stretches = [(a, b) for a, b in stretches if b > a]
    for a, b in stretches:  # the sure-O ends themselves take O
        tags[a - 1] = 0
        tags[b] = 0
    stretches.sort(key=lambda ab: ab[1] - ab[0])
    k = 0
    while k < len(stretches):
        longest = stretches[k][1] - stretches[k][0]
        group = [ab for ab in stretches[k:] if ab[1] - ab[0] <= max(8, 2 * longest)]
        k += len(group)
        L = max(b - a for a, b in group)
        logp = np.full((len(group), L, N_TAGS), -1e4, dtype=np.float32)
        logp[:, :, 0] = 0.0  # past its end a stretch stays O
        for g, (a, b) in enumerate(group):
            logp[g, : b - a] = np.log(np.maximum(stacked[a:b], 1e-9))
        for g, path in enumerate(_viterbi_many(logp)):
            a, b = group[g]
            tags[a:b] = path[: b - a]


def _viterbi_many(logp: np.ndarray) -> np.ndarray:
    """Viterbi for a (stretches, L, N_TAGS) array at once (each stretch starts after an O and ends before one)."""
    G, L, _ = logp.shape
    score = START[None, :] + logp[:, 0]
    back = np.empty((G, L, N_TAGS), dtype=np.int16)
    cols = np.arange(N_TAGS)
    for i in range(1, L):
        cand = score[:, :, None] + TRANS[None, :, :]
        back[:, i] = cand.argmax(axis=1)
        score = np.take_along_axis(cand, back[:, i][:, None, :].astype(np.int64), axis=1)[:, 0, :] + logp[:, i]
    score = score + END[None, :]
    tags = np.empty((G, L), dtype=np.int64)
    tags[:, -1] = score.argmax(axis=1)
    rows = np.arange(G)
    for i in range(L - 1, 0, -1):
        tags[:, i - 1] = back[rows, i, tags[:, i]]
    del cols
    return tags


def _single(row: np.ndarray) -> np.ndarray:
    return np.array([int((row + START + END).argmax())], dtype=np.int16)


def _spans(tags: np.ndarray, offset: int) -> list[tuple[int, int, str]]:
    out = []
    start = None
    for i, t in enumerate(tags.tolist()):
        if t == 0:
            start = None
            continue
        p, label = TAGS[t][0], TAGS[t][2:]
        if p == "S":
            out.append((offset + i, offset + i + 1, label))
        elif p == "B":
            start = i
        elif p == "E" and start is not None:
            out.append((offset + start, offset + i + 1, label))
            start = None
    return out


# -- the tagger -------------------------------------------------------------------------------------


class CharTagger:
    """A trained model plus the gazetteer it reads: ``spans(lines)`` → spans per line."""

    def __init__(self, model, gazetteer: Gazetteer, config: dict, chars: str = "") -> None:
        self.model = model
        self.gazetteer = gazetteer
        self.config = config
        self.chars = chars  # the characters of the vectors, row k + 1 for chars[k]
        self.vocab = None
        if chars:
            self.vocab = np.zeros(0x110000, dtype=np.uint64)
            self.vocab[codepoints(chars).astype(np.int64)] = np.arange(1, len(chars) + 1, dtype=np.uint64)

    @classmethod
    def new(cls, gazetteer: Gazetteer, vectors: tuple[str, np.ndarray] | None = None, **config) -> "CharTagger":
        chars = ""
        if vectors is not None:
            chars = vectors[0]
            config = dict(config, vectors=int(vectors[1].shape[1]), vocab_size=len(chars))
        tagger = cls(build_model(**config), gazetteer, dict(config), chars)
        tagger._init_vectors = vectors[1] if vectors is not None else None
        return tagger

    def warm(self) -> None:
        """Build now what the first batch would (the gazetteer automaton, the BLAS controller)."""
        if len(self.gazetteer):
            _automaton(self.gazetteer)
        with _one_blas_thread():
            pass

    def features(self, lines: list[str], gazetteer: Gazetteer | None = None) -> list[np.ndarray]:
        return features(lines, gazetteer if gazetteer is not None else self.gazetteer, self.vocab)

    def initialize(self, X: list[np.ndarray], Y: list[np.ndarray]) -> None:
        self.model.initialize(X=X[:8])  # every width is given: X only checks the input
        init = getattr(self, "_init_vectors", None)
        if init is not None:
            for node in self.model.walk():
                if node.name.startswith("embed") and node.has_param("E"):
                    E = np.zeros((len(init) + 1, init.shape[1]), dtype="f")
                    E[1:] = init
                    node.set_param("E", E)

    def probabilities(self, lines: list[str]) -> list[np.ndarray]:
        X = self.features(lines)
        keep = [i for i, x in enumerate(X) if len(x)]
        out = [np.zeros((0, N_TAGS), dtype="f")] * len(lines)
        if keep:
            with _one_blas_thread():
                predicted = self.model.predict([X[i] for i in keep])
            for i, p in zip(keep, predicted):
                out[i] = p
        return out

    def spans(self, lines: list[str]) -> list[list[tuple[int, int, str]]]:
        """Spans per line. White space is never inside a span (the corpus has none there)."""
        probs = self.probabilities(lines)
        for text, p in zip(lines, probs):
            if _SPACE.search(text):
                blank = [m.start() for m in _SPACE.finditer(text)]
                p[blank] = 0.0
                p[blank, 0] = 1.0
        return decode_batch(probs)

    # -- persistence --------------------------------------------------------------------------------

    def to_disk(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / WEIGHTS_FILE).write_bytes(self.model.to_bytes())
        (path / CONFIG_FILE).write_text(json.dumps({"tags": TAGS, "model": self.config, "chars": self.chars},
                                                   ensure_ascii=False, indent=1), encoding="utf-8")
        self.gazetteer.to_json(path / "guji_features" / "gazetteer.json")

    @classmethod
    def from_disk(cls, path: Path) -> "CharTagger":
        path = Path(path)
        cfg = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        if tuple(cfg["tags"]) != TAGS:
            raise ValueError(f"tag set {cfg['tags']} is not this version's")
        model = build_model(**cfg["model"])
        model.from_bytes((path / WEIGHTS_FILE).read_bytes())
        gazetteer = Gazetteer.from_json(path / "guji_features" / "gazetteer.json")
        return cls(model, gazetteer, cfg["model"], cfg.get("chars", ""))

    @staticmethod
    def present(path: Path) -> bool:
        return (Path(path) / WEIGHTS_FILE).is_file()
