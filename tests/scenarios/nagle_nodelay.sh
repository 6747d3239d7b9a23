#!/usr/bin/env bash
# nagle_nodelay: nagle_delayed_ack with TCP_NODELAY on the client: the same
# 20 write(40 B), write(60 B), read(reply) iterations on one connection, but
# the tail segment leaves right behind the head, without waiting for its ACK.
#   anomalies: nagle_delay 0
# (The server may still delay its ACK of the head; nothing waits for it.)
set -euo pipefail
NODELAY=1 NAME=nagle_nodelay exec "$(dirname "${BASH_SOURCE[0]}")/nagle_delayed_ack.sh" "$@"
