"""Test data of the acceptance workflow: the sample package as more batches, a fixed clock."""

import json
import shutil
from datetime import datetime, timezone

from api.context import SAMPLE_DIR

SAMPLE = SAMPLE_DIR / "package" / "guji-sample-2026-001"
UNIT = "guji 示例图书馆"


class Clock:
    def __init__(self, at: str) -> None:
        self.at = datetime.fromisoformat(at).replace(tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.at


def second_batch(tmp_path, batch="guji-sample-2026-002", drop_collation=True):
    """The sample package as another batch of the same unit (manifests re-made with bagit)."""
    import bagit

    dst = tmp_path / batch
    shutil.copytree(SAMPLE, dst)
    sub = json.loads((dst / "data/submission.json").read_text(encoding="utf-8"))
    sub["batch"] = batch
    sub["date"] = "2026-11-25"
    (dst / "data/submission.json").write_text(json.dumps(sub, ensure_ascii=False, indent=2), encoding="utf-8")
    # new books: another census number each (one book in two packages is another story, see the report of issue 13)
    books = dst / "data/books.csv"
    books.write_text(books.read_text(encoding="utf-8").replace("110000-0001-", "110000-0002-"), encoding="utf-8")
    if drop_collation:
        lines = (dst / "data/collation.csv").read_text(encoding="utf-8").splitlines()
        (dst / "data/collation.csv").write_text(lines[0] + "\n", encoding="utf-8")
    info = (dst / "bag-info.txt").read_text(encoding="utf-8").replace("guji-sample-2026-001", batch)
    (dst / "bag-info.txt").write_text(info, encoding="utf-8")
    bag = bagit.Bag(str(dst))
    bag.info["External-Identifier"] = batch
    bag.save(manifests=True)
    return dst


