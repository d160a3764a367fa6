#!/usr/bin/env bash
# Start each server the tests use that is not listening (CI's machine starts them
# before the run; a server that stopped is started again with the machine's own
# command). Prints what it starts; a server it cannot start is left to the tests,
# which fail under CI with the reason.
set -u
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start() {  # name port command...
  local name=$1 port=$2; shift 2
  up "$port" && return 0
  echo "services: $name is not listening on $port; starting it" >&2
  "$@" >/dev/null 2>&1 || { echo "services: could not start $name" >&2; return 0; }
  for _ in $(seq 100); do up "$port" && return 0; sleep 0.1; done
  echo "services: $name did not come up on $port" >&2
}
if [ "$(id -u)" = 0 ]; then
  command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] &&
    start postgresql 5432 pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -n 1)" main start
  command -v redis-server >/dev/null 2>&1 &&
    start redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
      --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  [ -x /usr/sbin/mariadbd ] &&
    start mariadb 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
exit 0
