# The guji API image (docker-compose.yml builds it). `guji serve` with the stores under /var/lib/guji.
# The code finds ontologies/ and samples/ beside its packages, so the source tree is installed in
# place (editable) rather than as a wheel.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /opt/guji

# Dependencies first, in their own layer: only a change to pyproject.toml rebuilds it.
COPY pyproject.toml README.md ./
RUN mkdir -p kg search annotation accounts api \
    && touch kg/__init__.py search/__init__.py annotation/__init__.py accounts/__init__.py api/__init__.py \
    && pip install -e . \
    && rm -rf kg search annotation accounts api

COPY kg ./kg
COPY search ./search
COPY annotation ./annotation
COPY accounts ./accounts
COPY api ./api
COPY ontologies ./ontologies
COPY samples ./samples
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/guji --create-home guji

USER guji
# production: `guji serve` refuses to start without GUJI_SECRET_KEY (32+ characters)
ENV GUJI_HOME=/var/lib/guji \
    GUJI_ENVIRONMENT=production
VOLUME ["/var/lib/guji"]
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=5)"]

CMD ["guji", "serve", "--host", "0.0.0.0"]
