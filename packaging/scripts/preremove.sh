#!/bin/sh
# On removal (not upgrade), stop and disable the units. dpkg passes "remove",
# rpm passes 0 when the last version goes.
set -e
case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl disable --now putonly.service putonly-run.timer putonly-run.service >/dev/null 2>&1 || true
	fi
	;;
esac
