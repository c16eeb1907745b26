# syntax=docker/dockerfile:1
# vocmine API (and CLI) image: the built wheel installed with the locked versions, CPU-only torch,
# the shipped models as package data, a non-root user.
# Not built on our machines (no Docker there): kept correct by reading the docs; see README.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Exactly the versions CI tested, hash-checked. The lock pins torch==2.13.0+cpu, the CPU build, which
# PyTorch's CPU index serves (the default Linux wheel on PyPI pulls in the CUDA stack, GBs of it).
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.lock \
 && pip check
COPY pyproject.toml setup.py README.md ./
COPY vocmine ./vocmine
COPY api ./api
COPY models ./models
# A real (non-editable) install: the models travel inside the package and are found through
# importlib.resources; the locked setuptools builds it (no build isolation, no unlocked download).
RUN pip wheel --no-deps --no-build-isolation -w /wheels . \
 && pip install --no-deps /wheels/vocmine-*.whl \
 && pip check

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 vocmine && mkdir /data && chown vocmine /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    VOCMINE_STORE=sqlite:////data/vocmine.sqlite
WORKDIR /data
USER vocmine
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=4)"
CMD ["vocmine", "serve", "--host", "0.0.0.0", "--port", "8000"]
