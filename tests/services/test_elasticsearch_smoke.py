"""Smoke tests against the real Elasticsearch server (scripts/services): version, write/read/delete.

They also pin what docs/adr/0002-elasticsearch-core-features-only.md relies on: the core
``standard`` tokenizer cuts Chinese into single characters, phrase queries match character
sequences, keyword fields aggregate, the highlighter marks the original text.
"""

from __future__ import annotations

import uuid

import elasticsearch
import pytest
from elasticsearch import NotFoundError

from tests._services import major_minor, pinned_versions

pytestmark = pytest.mark.elasticsearch


def test_server_is_the_pinned_elasticsearch_version(es_client):
    pinned = pinned_versions()["ELASTICSEARCH_VERSION"]
    nodes = es_client.nodes.info(node_id="_local")["nodes"]
    versions = {node["version"] for node in nodes.values()}
    assert len(versions) == 1, versions
    (server,) = versions
    assert major_minor(server) == major_minor(pinned), f"server {server}, scripts/services.d/versions.env pins {pinned}"
    # the Python client must be of the server's major version
    assert elasticsearch.__versionstr__.split(".")[0] == server.split(".")[0], (elasticsearch.__versionstr__, server)


def test_standard_tokenizer_cuts_chinese_into_single_characters(es_client):
    tokens = es_client.indices.analyze(analyzer="standard", text="司馬遷作史記")["tokens"]
    assert [t["token"] for t in tokens] == list("司馬遷作史記")
    assert [t["position"] for t in tokens] == list(range(6))


@pytest.fixture
def smoke_index(es_client):
    name = f"guji-smoke-{uuid.uuid4().hex}"
    es_client.indices.create(
        index=name,
        settings={"number_of_shards": 1, "number_of_replicas": 0},
        mappings={
            "properties": {
                "text": {"type": "text", "analyzer": "standard"},
                "dynasty": {"type": "keyword"},
            }
        },
    )
    yield name
    es_client.indices.delete(index=name, ignore_unavailable=True)


def test_write_read_delete(es_client, smoke_index):
    docs = {
        "1": {"text": "太史公曰余述歷黃帝以來至太初而訖", "dynasty": "漢"},
        "2": {"text": "司馬遷作史記百三十篇", "dynasty": "漢"},
        "3": {"text": "司徒遷官於洛陽", "dynasty": "唐"},
    }
    for doc_id, doc in docs.items():
        assert es_client.index(index=smoke_index, id=doc_id, document=doc)["result"] == "created"
    es_client.indices.refresh(index=smoke_index)

    assert es_client.get(index=smoke_index, id="2")["_source"] == docs["2"]

    result = es_client.search(
        index=smoke_index,
        query={"match_phrase": {"text": "司馬遷"}},
        highlight={"fields": {"text": {}}},
        aggs={"dynasty": {"terms": {"field": "dynasty"}}},
    )
    assert [hit["_id"] for hit in result["hits"]["hits"]] == ["2"]  # not 3: 司…遷 is not the phrase 司馬遷
    # the highlighter marks the phrase in the stored (original) text
    assert result["hits"]["hits"][0]["highlight"]["text"] == ["<em>司馬遷</em>作史記百三十篇"]
    assert {b["key"]: b["doc_count"] for b in result["aggregations"]["dynasty"]["buckets"]} == {"漢": 1}

    everything = es_client.search(index=smoke_index, size=0, aggs={"dynasty": {"terms": {"field": "dynasty"}}})
    assert everything["hits"]["total"]["value"] == 3
    assert {b["key"]: b["doc_count"] for b in everything["aggregations"]["dynasty"]["buckets"]} == {"漢": 2, "唐": 1}

    assert es_client.delete(index=smoke_index, id="2", refresh=True)["result"] == "deleted"
    with pytest.raises(NotFoundError):
        es_client.get(index=smoke_index, id="2")
    assert es_client.count(index=smoke_index, query={"match_phrase": {"text": "司馬遷"}})["count"] == 0

    es_client.indices.delete(index=smoke_index)
    assert not es_client.indices.exists(index=smoke_index)
