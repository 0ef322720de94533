"""The chinese-poetry corpus (``../shared/corpus/poetry``, traditional) as search passages, one per poem.

Poetry is not in the RDF store yet, so the benchmark reads the JSON directly. When poetry gets an
ingest of its own (``guji ingest --format poetry`` writing RDF), its passages will come from the
store like Kanripo's and this reader is only the benchmark's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from search.passages import Passage

_POET_FILE = re.compile(r"^poet\.(tang|song)\.(\d+)\.json$")
_DYNASTY = {"tang": "唐", "song": "宋"}
_COLLECTION = {"tang": "全唐詩", "song": "全宋詩"}


def poetry_files(root: Path) -> list[Path]:
    files = [p for p in (root / "全唐诗").glob("poet.*.json") if _POET_FILE.match(p.name)]
    files.sort(key=lambda p: (p.name.split(".")[1], int(p.name.split(".")[2])))
    return files + sorted((root / "御定全唐詩" / "json").glob("*.json"))


def read_poems(root: Path) -> Iterator[Passage]:
    """Every poem under ``root`` as one passage (text = the lines, joined as printed)."""
    for path in poetry_files(root):
        poems = json.loads(path.read_text(encoding="utf-8"))
        m = _POET_FILE.match(path.name)
        if m:
            dyn, part = m.group(1), int(m.group(2))
            source, dynasty, edition, juan = f"poetry-{dyn}", _DYNASTY[dyn], "chinese-poetry", f"{part:06d}"
            collection = _COLLECTION[dyn]
        else:
            source, dynasty, edition, juan, collection = "poetry-qts", "唐", "御定全唐詩", path.stem, "御定全唐詩"
        for i, poem in enumerate(poems, start=1):
            text = "".join(poem.get("paragraphs") or [])
            if not text:
                continue
            yield Passage(
                id=f"{source}/{juan}/{i}", graph=f"urn:guji:bench:{source}", source_id=source,
                title=poem.get("title") or collection, edition=edition, edition_label=collection,
                juan=poem.get("volume") or juan, juan_seq=int(juan) if juan.isdigit() else 0, seq=i,
                start=0, end=len(text), text=text, author=poem.get("author"), dynasty=dynasty,
                category="集部", copies=("digital",),
            )
