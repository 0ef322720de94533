"""A corrected text re-ingested through `guji ingest` re-anchors its annotations: never a silent move."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from annotation.model import AnnotationCreate, Category, Reading, TextSelection
from annotation.policies import Identity, Role
from api.context import Context
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
JUAN = "https://w3id.org/guji/id/text/GJ4a0002/master/001"


def guji(home, *args):
    env = {**os.environ, "GUJI_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "api", *args], env=env, capture_output=True, text=True, timeout=120)


def test_corrected_text_moves_unique_quotes_and_flags_the_rest(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "samples" / "kanripo" / "GJ4a0002", corpus / "GJ4a0002")
    home = tmp_path / "home"
    assert guji(home, "ingest", "--no-sync", str(corpus)).returncode == 0

    ctx = Context(Settings(home=home, environment="test"))
    text = ctx.annotations.text_of(JUAN)
    alice, rita = Identity("alice", Role.ANNOTATOR), Identity("rita", Role.REVIEWER)

    def annotate(exact, at):
        a = ctx.annotations.create(alice, AnnotationCreate(
            target=TextSelection(source=JUAN, start=at, end=at + len(exact), exact=exact),
            readings=[Reading(category=Category.PERSON)])).annotation
        ctx.annotations.submit(alice, a.id)
        return ctx.annotations.review(rita, a.id, "approve").annotation

    person = annotate("范仲淹", text.index("范仲淹"))
    place = annotate("岳陽樓", text.index("岳陽樓", 5))  # the second 岳陽樓 (重修岳陽樓)
    ctx.close()

    # a corrector inserts characters before both spans and rewrites the characters of the place span
    f = corpus / "GJ4a0002" / "master" / "GJ4a0002_001.txt"
    src = f.read_text(encoding="utf-8")
    src = src.replace("岳陽樓記¶", "岳陽樓記（校）¶", 1).replace("乃重修岳陽樓增其舊制", "乃重修岳阳楼增其舊制", 1)
    f.write_text(src, encoding="utf-8")
    r = guji(home, "ingest", "--no-sync", str(corpus))
    assert r.returncode == 0, r.stderr
    assert f"annotations on {JUAN}: 2 checked" in r.stderr.replace("\n", "")

    ctx = Context(Settings(home=home, environment="test"))
    new_text = ctx.annotations.text_of(JUAN)
    moved = ctx.annotations.get(Identity.system(), person.id).annotation
    assert new_text[moved.target.start:moved.target.end] == "范仲淹"
    assert moved.target.start == text.index("范仲淹") + 3  # moved by the three inserted characters
    flagged = ctx.annotations.get(Identity.system(), place.id).annotation
    assert flagged.anchor.state.value in ("needs_review", "orphaned")  # its quote is gone there: flagged, not moved
    assert flagged.anchor.reason
    assert (flagged.target.start, flagged.target.end) == (place.target.start, place.target.end)  # kept where it was
    ctx.close()
