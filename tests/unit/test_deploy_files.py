"""The Dockerfile and docker-compose.yml cannot be run here (no Docker): hold them to what the
README promises – a multi-stage, non-root image with CPU torch, and a single-node Elasticsearch with
security on, its password from the environment, a health check, and the API wired to it."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_image_is_multi_stage_non_root_with_the_locked_cpu_torch_and_the_built_wheel():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("# syntax=docker/dockerfile:1")
    assert text.count("\nFROM ") == 2 and "COPY --from=build" in text
    assert (
        "--require-hashes --no-deps --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.lock" in text
    )
    assert "torch==2.13.0+cpu" in (ROOT / "requirements.lock").read_text()
    assert "pip wheel --no-deps" in text and "pip install --no-deps /wheels/vocmine-*.whl" in text
    assert "pip install -e" not in text and "COPY --from=build --chown=vocmine /app" not in text
    assert "\nUSER vocmine" in text and "HEALTHCHECK" in text and "/v1/health" in text
    assert "COPY models ./models" in text


def test_compose_runs_a_secured_single_node_and_the_api_against_it():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    es = compose["services"]["elasticsearch"]
    env = es["environment"]
    assert env["discovery.type"] == "single-node" and env["xpack.security.enabled"] == "true"
    assert env["ELASTIC_PASSWORD"].startswith("${ELASTIC_PASSWORD:?")  # never a default password
    assert "_cluster/health" in " ".join(es["healthcheck"]["test"])
    api = compose["services"]["vocmine"]
    assert api["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
    assert api["environment"]["VOCMINE_STORE"] == "http://elastic:${ELASTIC_PASSWORD}@elasticsearch:9200"
    assert all(port.startswith("127.0.0.1:") for service in (es, api) for port in service["ports"])
