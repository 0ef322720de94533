"""Helpers shared by the annotation functional tests (protocol, auth, review workflow)."""

from __future__ import annotations

from typing import Any

ANNO = "http://www.w3.org/ns/anno.jsonld"
MEDIA = f'application/ld+json; profile="{ANNO}"'
# 岳陽樓記 (sample text GJ4a0002, master branch): 岳陽樓記　　　　宋　范仲淹　撰慶曆四年春滕子京謫守巴陵郡滕宗諒字子京…
JUAN = "https://w3id.org/guji/id/text/GJ4a0002/master/001"
OTHER_JUAN = "https://w3id.org/guji/id/text/GJ4a0001/master/001"
PERSON = "https://w3id.org/guji/vocab/entity-category/person"
PLACE = "https://w3id.org/guji/vocab/entity-category/place"
ERA = "https://w3id.org/guji/vocab/entity-category/era"
PASSWORD = "correct horse battery"
USERS = {"alice": "annotator", "carol": "annotator", "rita": "reviewer", "vera": "reviewer", "root": "admin", "lib": "submitter"}


def make_users(client) -> dict[str, dict[str, str]]:
    """Real users through the user service; returns Authorization headers by name."""
    users = client.app.state.context.users
    headers = {}
    for name, role in USERS.items():
        _, key = users.add(name, role, password=PASSWORD)
        headers[name] = {"Authorization": f"Bearer {key}"}
    return headers


def annotation(exact: str = "范仲淹", start: int | None = 10, end: int | None = 13, *, source: str = JUAN,
               category: str = PERSON, authority: str | None = None, label: str | None = None,
               note: str | None = None, **extra: Any) -> dict[str, Any]:
    selectors: list[dict[str, Any]] = [{"type": "TextQuoteSelector", "exact": exact}]
    if start is not None:
        selectors.append({"type": "TextPositionSelector", "start": start, "end": end})
    body: dict[str, Any] = {"type": "SpecificResource", "guji:category": category}
    if authority:
        body |= {"purpose": "identifying", "source": {"id": authority, **({"label": label} if label else {})}}
    else:
        body |= {"purpose": "classifying", "source": category}
    doc: dict[str, Any] = {"@context": ANNO, "type": "Annotation", "body": body,
                           "target": {"type": "SpecificResource", "source": source, "selector": selectors}}
    if note:
        doc["body"] = [body, {"type": "TextualBody", "value": note}]
    doc.update(extra)
    return doc


def post(client, headers: dict[str, str], doc: dict[str, Any]):
    return client.post("/annotations/", json=doc, headers={**headers, "Content-Type": MEDIA})


def created(client, headers: dict[str, str], doc: dict[str, Any] | None = None) -> tuple[str, str, dict]:
    """POST an annotation; returns (its URL, its ETag, its JSON)."""
    r = post(client, headers, doc or annotation())
    assert r.status_code == 201, r.text
    return r.headers["location"], r.headers["etag"], r.json()


# annotation ids are on GUJI_PUBLIC_BASE_URL (default http://HOST:PORT/), not on the request's Host
BASE = "http://127.0.0.1:8000/"


def path(url: str) -> str:
    return url.removeprefix(BASE.rstrip("/"))


def error_code(response) -> str:
    return response.json()["error"]["code"]
