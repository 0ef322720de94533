"""Benchmark: what projects cost the annotation path.

    python -m bench.organisations [--annotations 1000] [--projects 20]

A fresh on-disk store with the sample texts; P projects (one covers the annotated juan), an
annotator in all of them. Times: reading a caller's project roles (every authenticated request),
creating an annotation outside any project vs inside one (scope check), listing as a project
reviewer vs as a global reviewer, and a project's statistics over N annotations by 3 annotators
(agreement included). Prints a table; asserts nothing. Numbers from a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench._util import load_average, median_ms  # noqa: E402

from accounts.identity import Identity, Role  # noqa: E402
from accounts.users import UserStore  # noqa: E402
from annotation.model import AnnotationCreate, Category, Reading, TextSelection  # noqa: E402
from annotation.service import AnnotationFilter, AnnotationService  # noqa: E402
from api.context import SAMPLE_DIR  # noqa: E402
from kg.ingest_kanripo import find_works, ingest_work  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402
from organisations.members import MemberStore  # noqa: E402
from organisations.model import MemberState, OrganisationCreate, ProjectCreate, ProjectRole  # noqa: E402
from organisations.service import OrganisationService  # noqa: E402

JUAN = "https://w3id.org/guji/id/text/GJ4a0002/master/001"
OTHER = "https://w3id.org/guji/id/text/GJ4a0001/master/001"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--annotations", type=int, default=1000)
    ap.add_argument("--projects", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        store = OxigraphStore(home / "oxigraph")
        for w in find_works([SAMPLE_DIR / "kanripo"]):
            ingest_work(store, w)
        users = UserStore(home / "users.sqlite3", fast_hashing=True)
        for name in ("a1", "a2", "a3", "rev"):
            users.add(name, "annotator")
        org = None
        annotations = AnnotationService(store, delegation=lambda *x: org.delegation(*x))
        org = OrganisationService(store, MemberStore(home / "organisations.sqlite3"), users=users, annotations=annotations)
        root = Identity("root", Role.ADMIN)
        org.create_organisation(root, OrganisationCreate(id="nlc", name="中国国家图书馆", authority="CN-110000-NLC"))
        for i in range(args.projects):
            org.create_project(root, ProjectCreate(id=f"p{i}", organisation="nlc", name=f"P{i}", scope=[JUAN if i == 0 else OTHER]))
            for name in ("a1", "a2", "a3"):
                org.members.put(f"p{i}", name, ProjectRole.ANNOTATOR, MemberState.ACTIVE, "root")
        org.members.put("p0", "rev", ProjectRole.REVIEWER, MemberState.ACTIVE, "root")
        text = annotations.text_of(JUAN)
        rows = []
        a1 = org.with_projects(Identity("a1", Role.ANNOTATOR))
        rows.append(("project roles of a caller (per request)", median_ms(lambda: org.with_projects(Identity("a1", Role.ANNOTATOR)), 200)))

        def make(who, i, project=None):
            s = (i * 3) % (len(text) - 3)
            return annotations.create(who, AnnotationCreate(target=TextSelection(source=JUAN, start=s, end=s + 2, exact=text[s:s + 2]),
                                                            readings=[Reading(category=Category.PERSON)], project=project))
        plain = Identity("rev", Role.ANNOTATOR)  # no annotator role in any project: no delegation
        rows.append(("create, outside any project", median_ms(lambda: make(plain, 1), 20)))
        rows.append((f"create, project chosen by scope ({args.projects} projects)", median_ms(lambda: make(a1, 1), 20)))
        rows.append(("create, project named", median_ms(lambda: make(a1, 1, "p0"), 20)))
        ids = [org.with_projects(Identity(n, Role.ANNOTATOR)) for n in ("a1", "a2", "a3")]
        t = time.perf_counter()
        for i in range(args.annotations):
            who = ids[i % 3]
            a = make(who, i // 3).annotation
            annotations.submit(who, a.id)
        rows.append((f"write {args.annotations} project annotations (create+submit), per annotation",
                     (time.perf_counter() - t) * 1000 / args.annotations))
        rev = org.with_projects(Identity("rev", Role.ANNOTATOR))
        rows.append(("list submitted as the project reviewer", median_ms(
            lambda: annotations.list(rev, AnnotationFilter(status=()), limit=100), 5)))
        rows.append(("list submitted as a global reviewer", median_ms(
            lambda: annotations.list(Identity("g", Role.REVIEWER), AnnotationFilter(status=()), limit=100), 5)))
        rows.append((f"project statistics over {args.annotations + 60} annotations", median_ms(lambda: org.project_stats(root, "p0"), 3)))
        store.close()
    width = max(len(r[0]) for r in rows)
    print(f"{'operation':<{width}}  median ms")
    for label, ms in rows:
        print(f"{label:<{width}}  {ms:9.2f}")
    print(load_average())


if __name__ == "__main__":
    main()
