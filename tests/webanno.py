"""The W3C Web Annotation data-model test schemas (../shared/conformance/web-annotation), run with jsonschema.

The W3C suite states each requirement as a JSON Schema (draft-04) "assertion". The *Musts* lists
(``annotationMusts.test``, ``collectionMusts.test``, ``pageMusts.test``) must all pass for every
document the server emits; :data:`CLAIMED` names the optional features guji implements, which must
pass too (a failing optional assertion would otherwise just mean "not implemented").
"""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

BASE = "https://conformance.invalid/web-annotation/"

# optional assertions for features guji implements (must pass as well)
CLAIMED = {
    "annotation": [
        "annotations/3.3.1-annotationCreatedImplemented.json",
        "annotations/3.3.1-annotationModifiedImplemented.json",
        "annotations/3.3.1-annotationCreatorImplemented.json",
        "annotations/3.3.1-annotationSingleCreatorImplemented.json",
        "annotations/3.3.2-annotationCreatorAgentIdImplemented.json",
        "annotations/3.3.2-annotationCreatorAgentTypeImplemented.json",
        "annotations/3.3.2-annotationCreatorAgentNicknameImplemented.json",
        "annotations/3.3.5-annotationMotivationImplemented.json",
        "annotations/3.3.5-annotationSingleMotivationImplemented.json",
        "annotations/3.3.7-annotationCanonicalImplemented.json",
        "annotations/3.1-bodyKeyFound.json",
        "annotations/bodiesTargets/3.3.5-bodyPurpose.json",
        "annotations/specificResource/4.2-selectorFound.json",
        "annotations/specificResource/4.2.4-textQuoteSelector.json",
        "annotations/specificResource/4.2.4-prefix.json",
        "annotations/specificResource/4.2.4-suffix.json",
        "annotations/specificResource/4.2.5-textPositionSelector.json",
    ],
    "collection": [
        "collections/5.1-collectionLabelImplemented.json",
        "collections/5.1-collectionTotalImplemented.json",
        "collections/5.1-collectionFirstImplemented.json",
        "collections/5.1-collectionLastImplemented.json",
    ],
    "page": [
        "collections/pages/5.2-pagePartOfImplemented.json",
        "collections/pages/5.2-pageStartIndexImplemented.json",
    ],
}
MUSTS = {"annotation": "annotations/annotationMusts.test", "collection": "collections/collectionMusts.test",
         "page": "collections/pages/pageMusts.test"}


class WebAnnotationSchemas:
    def __init__(self, root: Path) -> None:
        self.root = root
        resources = []
        self._schemas: dict[str, dict] = {}
        for path in sorted(root.rglob("*.json")):
            if "tools" in path.parts or path.name in ("package.json", "w3c.json"):
                continue
            schema = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(schema, dict) or "$schema" not in schema:
                continue
            rel = path.relative_to(root).as_posix()
            schema = dict(schema)
            schema["id"] = BASE + path.name  # the suite refers to schemas by bare file name
            self._schemas[rel] = schema
            resources.append((BASE + path.name, Resource(contents=schema, specification=DRAFT4)))
        self.registry = Registry().with_resources(resources)
        self.assertions = {kind: json.loads((root / test).read_text(encoding="utf-8"))["assertions"]
                           for kind, test in MUSTS.items()}
        self.checked = 0
        self._validators: dict[str, Draft4Validator] = {}

    def _validator(self, rel: str) -> Draft4Validator:
        if rel not in self._validators:
            schema = self._schemas[rel]
            # draft-04 ignores the siblings of a root "$ref" (including "id"): wrap it so that the
            # suite's relative references ("id.json#/…") resolve against BASE
            if "$ref" in schema:
                schema = {"id": BASE + "_assertion.json", "allOf": [{k: v for k, v in schema.items() if k != "id"}]}
            self._validators[rel] = Draft4Validator(schema, registry=self.registry,
                                                    format_checker=Draft4Validator.FORMAT_CHECKER)
        return self._validators[rel]

    def errors(self, kind: str, doc: dict, *, claimed: bool = True) -> list[str]:
        """Every failed MUST (and claimed optional) assertion for ``doc``: its id and error message."""
        problems = []
        for rel in self.assertions[kind] + (CLAIMED[kind] if claimed else []):
            if not self._validator(rel).is_valid(doc):
                original = self._schemas[rel]
                problems.append(f"{rel}: {original.get('errorMessage', original.get('title'))}")
        self.checked += 1
        return problems

    def check(self, kind: str, doc: dict, *, claimed: bool = True) -> None:
        problems = self.errors(kind, doc, claimed=claimed)
        assert not problems, f"{kind} fails W3C web-annotation assertions:\n" + "\n".join(problems) + "\n" + json.dumps(doc, ensure_ascii=False)[:3000]

    def check_annotation(self, doc: dict) -> None:
        self.check("annotation", doc)

    def check_container(self, doc: dict) -> None:
        """A container (collection) and the page embedded in it, and every annotation on that page."""
        self.check("collection", doc)
        first = doc.get("first")
        if isinstance(first, dict):  # an embedded page: partOf is the collection around it
            self.check_page({"@context": doc["@context"], **first}, claimed=False)

    def check_page(self, doc: dict, *, claimed: bool = True) -> None:
        self.check("page", doc, claimed=claimed)
        for item in doc.get("items", []):
            if isinstance(item, dict):
                self.check_annotation(item)


def load(shared_dir: Path) -> WebAnnotationSchemas:
    from tests.conftest import require

    root = shared_dir / "conformance" / "web-annotation"
    require(root.is_dir(), f"W3C web-annotation test material not found at {root}")
    return WebAnnotationSchemas(root)
