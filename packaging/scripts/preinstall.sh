#!/bin/sh
# Create the putonly system user and group before the files that name them
# are unpacked. Idempotent: upgrades and reinstalls keep the existing user.
set -e
if ! getent group putonly >/dev/null 2>&1; then
	groupadd --system putonly
fi
if ! getent passwd putonly >/dev/null 2>&1; then
	useradd --system --gid putonly --home-dir /var/lib/putonly --no-create-home \
		--shell /usr/sbin/nologin --comment "putonly backup agent" putonly
fi
