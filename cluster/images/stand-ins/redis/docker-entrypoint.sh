#!/bin/sh
# The redis image's entry point contract, for Debian's redis-server:
#   * first argument an option (-x, --x) or a *.conf file: redis-server is prepended, so a
#     manifest can give `args` only;
#   * started as root: files in the working directory (/data) are given to redis and the server
#     runs as redis (999:999); started as any other user (runAsUser): runs as that user;
#   * umask 0077 unless one other than 0022 was set;
#   * redis-server runs with protected mode off (reachable from other pods without a password, as
#     the official image builds it), unless a config file given first sets protected-mode.
set -eu

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "$(umask)" = 0022 ]; then
  umask 0077
fi

if [ "$1" = redis-server ]; then
  shift
  config=""
  if [ $# -gt 0 ] && [ -f "$1" ]; then
    config="$1"
    shift
  fi
  # command-line options come after the config file; the last occurrence of an option wins
  if [ -n "$config" ] && grep -q '^[[:space:]]*protected-mode' "$config"; then
    set -- redis-server "$config" "$@"
  elif [ -n "$config" ]; then
    set -- redis-server "$config" --protected-mode no "$@"
  else
    set -- redis-server --protected-mode no "$@"
  fi
fi

exec "$@"
