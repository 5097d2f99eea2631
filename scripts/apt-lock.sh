# Sourced by Kite's installers (scripts/install-deps.sh, scripts/qemu/install.sh): holds one lock
# on fd 9 for the rest of the script, so that concurrent test workers and the two installers run
# apt-get one at a time (dpkg's own lock makes a second apt-get fail instead of waiting).
exec 9>/tmp/kite-apt.lock
flock 9
