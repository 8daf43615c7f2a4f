#!/bin/sh
# lastack exec: your own server and client under a fault policy. `lastack agent` stands in for
# your programs here; note how they find each other through the LASTACK_* variables.
# Usage (as root, or where unprivileged user namespaces are allowed):
#   examples/exec-demo.sh [path/to/lastack] [policy]
set -eu
LASTACK_BIN=${1:-lastack}
POLICY=${2:-drop-final-ack}
export LASTACK_BIN

exec "$LASTACK_BIN" exec --policy "$POLICY" \
  --server '"$LASTACK_BIN" agent --side server --address "$LASTACK_SERVER_ADDR" --port "$LASTACK_SERVER_PORT" --step accept --step recv-until-eof --step close' \
  --client 'echo "client at $LASTACK_CLIENT_ADDR, connecting to $LASTACK_SERVER_ADDR:$LASTACK_SERVER_PORT";
            "$LASTACK_BIN" agent --side client --address "$LASTACK_SERVER_ADDR" --port "$LASTACK_SERVER_PORT" --step connect --step "send 1000" --step close'
