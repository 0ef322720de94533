"""Smoke tests against the real Neo4j server (scripts/services): version, write/read/delete, restart."""

from __future__ import annotations

import uuid

import pytest
from neo4j.exceptions import ServiceUnavailable

from tests._services import major_minor, pinned_versions

pytestmark = pytest.mark.neo4j


def test_server_is_the_pinned_neo4j_version(neo4j_driver):
    pinned = pinned_versions()["NEO4J_VERSION"]
    agent = neo4j_driver.get_server_info().agent
    assert agent.startswith("Neo4j/"), agent
    assert major_minor(agent) == major_minor(pinned), f"server {agent}, scripts/services.d/versions.env pins {pinned}"
    records, _, _ = neo4j_driver.execute_query("CALL dbms.components() YIELD name, versions, edition RETURN *")
    assert [(r["name"], r["versions"][0], r["edition"]) for r in records] == [("Neo4j Kernel", agent.split("/")[1], "community")]


def test_write_read_delete(neo4j_driver):
    key = f"smoke-{uuid.uuid4()}"
    summary = neo4j_driver.execute_query(
        "CREATE (w:SmokeWork {key: $key, title: $title})-[:HAS_INSTANCE]->(:SmokeInstance {key: $key, edition: $edition})",
        key=key, title="史記", edition="四庫全書・文淵閣",
    ).summary
    assert summary.counters.nodes_created == 2
    assert summary.counters.relationships_created == 1

    records, _, _ = neo4j_driver.execute_query(
        "MATCH (w:SmokeWork {key: $key})-[:HAS_INSTANCE]->(i:SmokeInstance) RETURN w.title AS title, i.edition AS edition",
        key=key,
    )
    assert [r.data() for r in records] == [{"title": "史記", "edition": "四庫全書・文淵閣"}]

    summary = neo4j_driver.execute_query("MATCH (n {key: $key}) DETACH DELETE n", key=key).summary
    assert summary.counters.nodes_deleted == 2
    records, _, _ = neo4j_driver.execute_query("MATCH (n {key: $key}) RETURN count(n) AS n", key=key)
    assert records[0]["n"] == 0


@pytest.mark.slow
def test_stop_and_start_keeps_committed_data(neo4j_control, neo4j_driver):
    """The helper later tests use for "projection down, then catches up" really stops and restarts Neo4j."""
    key = f"smoke-restart-{uuid.uuid4()}"
    neo4j_driver.execute_query("CREATE (:SmokeWork {key: $key, title: '漢書'})", key=key)
    try:
        neo4j_control.stop()
        assert not neo4j_control.is_running()
        with pytest.raises(ServiceUnavailable):
            neo4j_driver.verify_connectivity()

        neo4j_control.start()
        assert neo4j_control.is_running()
        records, _, _ = neo4j_driver.execute_query("MATCH (w:SmokeWork {key: $key}) RETURN w.title AS title", key=key)
        assert [r["title"] for r in records] == ["漢書"]
    finally:
        if neo4j_control.is_running():
            neo4j_driver.execute_query("MATCH (n {key: $key}) DETACH DELETE n", key=key)
