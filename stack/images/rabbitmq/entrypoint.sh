#!/bin/sh
# Start the broker, then create the agents' user from the mounted secret file (rule 9.2).
set -eu
rm -f /var/lib/rabbitmq/.ready
# Ports from the environment (rule 5.3), the rest from the image's file.
conf=/var/lib/rabbitmq/rabbitmq.conf
{ cat /etc/rabbitmq/rabbitmq.conf; echo "listeners.tcp.default = ${PORT}"; echo "prometheus.tcp.port = ${METRICS_PORT}"; } > "$conf"
export RABBITMQ_CONFIG_FILE="${conf%.conf}"
rabbitmq-server &
broker=$!
trap 'kill -TERM $broker; wait $broker' TERM INT
until rabbitmqctl -q await_startup >/dev/null 2>&1; do sleep 0.5; done
user="${RABBITMQ_USER:-agent}"
password=$(cat "${RABBITMQ_PASSWORD_FILE:?RABBITMQ_PASSWORD_FILE must name the secret file}")
rabbitmqctl -q add_user "$user" "$password" >/dev/null 2>&1 || rabbitmqctl -q change_password "$user" "$password" >/dev/null
rabbitmqctl -q set_permissions -p / "$user" ".*" ".*" ".*" >/dev/null
rabbitmqctl -q delete_user guest >/dev/null 2>&1 || true
touch /var/lib/rabbitmq/.ready
wait $broker
