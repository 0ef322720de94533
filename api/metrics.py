"""``/metrics`` in the Prometheus text format (prometheus-client), built per request from the
projector's status: nothing global, so several apps in one process (tests) do not collide."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily


class _ProjectorCollector:
    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def collect(self):
        statuses = self.ctx.projector.status()
        last = GaugeMetricFamily("guji_changelog_last_sequence", "Last entry of the canonical store's change log")
        last.add_metric([], statuses[0].last_sequence if statuses else self.ctx.store.last_sequence())
        yield last
        gauges = {
            "checkpoint": GaugeMetricFamily("guji_projection_checkpoint", "Last change-log entry a projection holds", labels=["projection"]),
            "pending": GaugeMetricFamily("guji_projection_pending_changes", "Change-log entries not applied yet", labels=["projection"]),
            "lag_seconds": GaugeMetricFamily("guji_projection_lag_seconds", "Age of the oldest change not applied yet", labels=["projection"]),
            "failures": GaugeMetricFamily("guji_projection_consecutive_failures", "Failed attempts since the last success", labels=["projection"]),
            "applied_changes": GaugeMetricFamily("guji_projection_applied_changes", "Changes applied since the server started", labels=["projection"]),
        }
        up = GaugeMetricFamily("guji_projection_up", "1 when the projection's last attempt succeeded", labels=["projection"])
        for st in statuses:
            for key, g in gauges.items():
                g.add_metric([st.name], float(getattr(st, key) or 0))
            up.add_metric([st.name], 0.0 if st.state == "failing" else 1.0)
        yield from gauges.values()
        yield up


class _DirectSparqlCollector:
    """The direct SPARQL workers of a running server (ADR 0026), when it has them."""

    def collect(self):
        from prometheus_client.core import CounterMetricFamily

        from api import sparql_direct

        pool = sparql_direct.POOL
        if pool is None:
            return
        st = pool.stats()
        workers = GaugeMetricFamily("guji_sparql_direct_workers", "Direct SPARQL workers, by state", labels=["state"])
        workers.add_metric(["ready"], st["ready"])
        workers.add_metric(["serving"], st["serving"])
        yield workers
        for key, name, doc in [
            ("handed", "guji_sparql_direct_connections", "Connections handed to a direct SPARQL worker"),
            ("sent_back", "guji_sparql_direct_sent_back", "Handed connections sent back to the server (a request for another path)"),
            ("answered", "guji_sparql_direct_answered", "Requests answered by direct SPARQL workers"),
            ("timed_out", "guji_sparql_direct_timeouts", "Queries a direct worker ended at their time limit"),
            ("failed_for", "guji_sparql_direct_failures", "Queries whose direct worker died otherwise (memory, a crash)"),
            ("replaced", "guji_sparql_direct_workers_replaced", "Direct SPARQL workers started again after one ended"),
        ]:
            yield CounterMetricFamily(name, doc, value=st[key])


def render(ctx) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProjectorCollector(ctx))
    registry.register(_DirectSparqlCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST
