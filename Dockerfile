# syntax=docker/dockerfile:1

# Build stage: a wheel of the project and its dependencies.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY gateway ./gateway
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Run stage: the wheels only, a non-root user, no build tools.
# PYTHONMALLOC=malloc: glibc's allocator, whose freed pages the gateway gives back to the
# system after a burst of subscribers leaves (gateway/heap.py); CPython's own keeps an
# arena while any object in it lives. tcache_count=2: glibc's per-thread caches hold 2
# freed blocks of each size, not 7; each held block keeps its page. Measured in
# docs/performance.md (Subscriptions), with what they cost.
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONMALLOC=malloc \
    GLIBC_TUNABLES=glibc.malloc.tcache_count=2 \
    JOB_GATEWAY_HOST=0.0.0.0 \
    JOB_GATEWAY_PORT=8000 \
    JOB_GATEWAY_WORKERS=1
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --no-create-home gateway
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('JOB_GATEWAY_PORT', '8000') + '/healthz', timeout=2)"]
ENTRYPOINT ["job-gateway", "serve"]
