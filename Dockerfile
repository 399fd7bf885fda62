# movierec serve in a container: multi-stage (wheels built in the first stage, no compiler in the image),
# non-root, only what serving needs (the `serve` and `postgres` extras). Mount an artifact folder written by
# `movierec export` at /artifacts/current (a symlink there + `docker kill -s HUP` reloads it without downtime).
#   docker build -t movierec-serve .
#   docker run --rm -p 127.0.0.1:8000:8000 -v "$PWD/artifacts/als:/artifacts/current:ro" movierec-serve
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels '.[serve,postgres]'

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin movierec
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels 'movierec[serve,postgres]' && rm -rf /wheels
USER 10001
WORKDIR /home/movierec
ENV PYTHONUNBUFFERED=1 NUMBA_CACHE_DIR=/tmp/numba
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"
ENTRYPOINT ["movierec", "serve", "--host", "0.0.0.0", "--port", "8000"]
CMD ["--artifact", "/artifacts/current", "--db", "none"]
