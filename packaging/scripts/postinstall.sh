#!/bin/sh
# The putonly user's home holds its state and, if you use a key file, its
# .aws/credentials: only that user may read it. Units are installed but not
# enabled: choose putonly.service (the daemon) or putonly-run.timer.
set -e
install -d -m 0700 -o putonly -g putonly /var/lib/putonly
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
