"""The OpenAPI document describes the error shape the service really sends."""

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings


def test_422_is_documented_as_the_one_error_shape(tmp_path):
    client = TestClient(create_app(Settings(home=tmp_path, environment="test", projector_enabled=False)))
    spec = client.get("/openapi.json").json()
    schema = spec["components"]["schemas"]["HTTPValidationError"]
    assert schema["required"] == ["error"] and "detail" not in schema["properties"]
    r = client.get("/api/search", params={"size": "many"})
    assert r.status_code == 422 and set(r.json()) == {"error"}
    assert "ValidationError" not in str(spec).replace("HTTPValidationError", "")
