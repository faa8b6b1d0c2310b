# The stepbricks image: the fake Databricks workspace (jobs really run on local Spark) and the local
# Lambda runtime, for docker-compose.yml. The same image serves MLflow there (`mlflow server`).
# Built and run by `docker compose up --build` / `pytest --stepbricks-backend=docker`; not built on the
# machines this was written on (no Docker engine): see docs/backends.md.
FROM python:3.11-slim-bookworm

# Spark needs Java 17+ (stack-facts.md); procps gives Spark's scripts `ps`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p asl lambdas etl ml sim harness \
 && for p in asl lambdas etl ml sim harness; do touch $p/__init__.py; done \
 && pip install . \
 && pip uninstall -y stepbricks
COPY . .
RUN pip install --no-deps -e .

# moto (Lambda, IAM, STS, S3, Logs), the Lambda Invoke endpoint, the workspace (harness.backends.DockerPorts).
EXPOSE 4510 4511 8079
VOLUME ["/var/lib/stepbricks"]
ENTRYPOINT ["python", "/app/docker/serve.py"]
CMD ["--host", "0.0.0.0", "--state-dir", "/var/lib/stepbricks"]
