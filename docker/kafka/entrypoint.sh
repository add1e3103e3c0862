#!/bin/sh
# Starts tansu, an Apache-Kafka-compatible broker, storing in SQLite on the /data volume so that
# a killed broker keeps what it acknowledged. The platform sets ADVERTISED_LISTENER_URL to an
# address that both the engine (through its proxy) and the harness can reach.
set -eu
: "${ADVERTISED_LISTENER_URL:?ADVERTISED_LISTENER_URL must be set (tcp://host:port)}"
export STORAGE_ENGINE="${STORAGE_ENGINE:-sqlite:///data/tansu.db}"
export LISTENER_URL="${LISTENER_URL:-tcp://0.0.0.0:9092}"
exec /usr/local/bin/tansu broker
