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


def render(ctx) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProjectorCollector(ctx))
    return generate_latest(registry), CONTENT_TYPE_LATEST
