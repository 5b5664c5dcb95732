# The ofsted-ratings image: Airflow 3 and the project, installed from the locked dependencies.
# Every Airflow service in docker-compose.yml runs from this one image.
#   docker build -t ofsted-ratings .      (or: docker compose build)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow

# The locked dependencies in a layer of their own, so a code change does not reinstall them.
# --require-hashes: every file must match the sha256 in requirements.lock (`make lock`).
COPY requirements.lock /opt/ofsted/requirements.lock
RUN pip install --require-hashes --no-deps -r /opt/ofsted/requirements.lock

# The project itself, without touching the locked dependencies.
COPY pyproject.toml README.md* /opt/ofsted/
COPY etl /opt/ofsted/etl
RUN pip install --no-deps /opt/ofsted
COPY scripts /opt/ofsted/scripts
COPY dags /opt/airflow/dags
# the ratings view in the Airflow UI (its code is etl/web, installed above)
COPY plugins /opt/airflow/plugins

# Services run as AIRFLOW_UID:0 (compose's `user:`), as with Airflow's own image: group 0
# owns and may write the Airflow home, whatever the uid.
RUN useradd --uid 50000 --gid 0 --no-create-home --home-dir /opt/airflow airflow \
 && mkdir -p /opt/airflow/data /opt/airflow/logs /opt/airflow/auth /opt/airflow/plugins \
 && chown -R 50000:0 /opt/airflow \
 && chmod -R g+rwX /opt/airflow
USER 50000:0
WORKDIR /opt/airflow
EXPOSE 8080
CMD ["airflow", "version"]
