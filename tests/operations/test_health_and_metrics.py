"""/healthz reports the database and Redis; /metrics speaks the Prometheus text format."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from backend.app import create_app


async def test_healthz_is_ok_when_database_and_redis_answer(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_healthz_is_503_when_redis_is_down(db):
    settings = db.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    app = create_app(settings, manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pvpp.test") as c:
        response = await c.get("/healthz")
    await app.state.redis.aclose()
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("error")


async def test_metrics_count_requests_by_status(client):
    await client.post("/graphql", json={"query": "{ __typename }"})
    await client.post("/graphql", json={"query": "{ nope }"})
    response = await client.get("/metrics")
    assert response.status_code == 200
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    ok = samples[("pvpp_http_requests_total", (("method", "POST"), ("route", "/graphql"), ("status", "200")))]
    bad = samples[("pvpp_http_requests_total", (("method", "POST"), ("route", "/graphql"), ("status", "400")))]
    assert ok >= 1 and bad >= 1
    assert any(name == "pvpp_http_request_duration_seconds_count" for name, _ in samples)
