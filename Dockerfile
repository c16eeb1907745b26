# syntax=docker/dockerfile:1
# vocmine API (and CLI) image: CPU-only torch, the shipped models, a non-root user.
# Not built on our machines (no Docker there): kept correct by reading the docs; see README.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# CPU torch from PyTorch's CPU index first: the default Linux wheel pulls in the CUDA stack (GBs).
RUN pip install --index-url https://download.pytorch.org/whl/cpu "torch==2.13.0"
WORKDIR /app
COPY pyproject.toml README.md ./
COPY vocmine ./vocmine
COPY api ./api
COPY models ./models
# Editable, so the models stay where the code looks for them (/app/models, beside the package).
RUN pip install -e ".[analysis,api,elastic]"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 vocmine && mkdir /data && chown vocmine /data
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=vocmine /app /app
ENV PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    VOCMINE_STORE=sqlite:////data/vocmine.sqlite
WORKDIR /data
USER vocmine
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/v1/health', timeout=4)"
CMD ["vocmine", "serve", "--host", "0.0.0.0", "--port", "8000"]
