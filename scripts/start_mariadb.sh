#!/usr/bin/env bash
# A private MariaDB server holding InterCode-SQL's Spider databases, for --sql_backend mysql.
#   scripts/start_mariadb.sh start    install mariadb-server if missing (Debian, as root), start the server on
#                                     127.0.0.1:$MARIADB_PORT with its own datadir, load the dump once, print the URL
#   scripts/start_mariadb.sh stop     stop it
#   scripts/start_mariadb.sh status   "running mysql://..." (exit 0) or "stopped" (exit 3)
# Environment: MARIADB_DIR (default .cache/mariadb), MARIADB_PORT (default 3399),
#   SQL_DUMP (default $LUMOS_DATA_DIR/intercode_sql/spider__ic_spider_dbs.sql, else data/eval/intercode_sql/ic_spider_dbs.sql).
# The server runs like InterCode's (lower_case_table_names=1); agents connect as the read-only user lumos_ro
# (SELECT on the dump's databases only): mysql://lumos_ro:lumos_ro@127.0.0.1:$MARIADB_PORT
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$(realpath -m "${MARIADB_DIR:-.cache/mariadb}")
PORT=${MARIADB_PORT:-3399}
if [[ -z "${SQL_DUMP:-}" ]]; then
  SQL_DUMP=data/eval/intercode_sql/ic_spider_dbs.sql
  [[ -n "${LUMOS_DATA_DIR:-}" && -f "$LUMOS_DATA_DIR/intercode_sql/spider__ic_spider_dbs.sql" ]] &&
    SQL_DUMP=$LUMOS_DATA_DIR/intercode_sql/spider__ic_spider_dbs.sql
fi
SOCK=$DIR/mysqld.sock CNF=$DIR/my.cnf PIDFILE=$DIR/mysqld.pid
URL="mysql://lumos_ro:lumos_ro@127.0.0.1:$PORT"

running() { [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
client() { mariadb --no-defaults --socket="$SOCK" -u root "$@"; }

install_server() {
  command -v mariadbd >/dev/null && command -v mariadb-install-db >/dev/null && return 0
  if [[ $(id -u) -ne 0 ]]; then echo "mariadb-server is not installed and installing it needs root" >&2; return 2; fi
  echo "installing mariadb-server (Debian) ..." >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >&2 || {
    echo "could not install mariadb-server with apt-get" >&2; return 2; }
}

start() {
  if running; then echo "$URL"; return 0; fi
  install_server
  mkdir -p "$DIR"
  cat > "$CNF" <<EOF
[mariadbd]
datadir=$DIR/data
socket=$SOCK
pid-file=$PIDFILE
log-error=$DIR/error.log
port=$PORT
bind-address=127.0.0.1
skip-name-resolve
lower_case_table_names=1
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
innodb_buffer_pool_size=64M
max_connections=2000
EOF
  if [[ ! -d $DIR/data/mysql ]]; then
    mariadb-install-db --defaults-file="$CNF" --user="$(id -un)" --auth-root-authentication-method=normal \
      --skip-test-db >"$DIR/install.log" 2>&1 || { cat "$DIR/install.log" >&2; return 1; }
  fi
  mariadbd --defaults-file="$CNF" --user="$(id -un)" >>"$DIR/server.log" 2>&1 &
  for _ in $(seq 1 60); do client -e "SELECT 1" >/dev/null 2>&1 && break; sleep 0.5; done
  client -e "SELECT 1" >/dev/null || { echo "MariaDB did not start; see $DIR/error.log" >&2; return 1; }
  load
  echo "$URL"
}

load() {
  [[ -f $SQL_DUMP ]] || { echo "SQL dump $SQL_DUMP not found (set SQL_DUMP or LUMOS_DATA_DIR)" >&2; return 1; }
  local mark; mark=$DIR/loaded-$(sha256sum "$SQL_DUMP" | cut -c1-16)
  [[ -f $mark ]] && return 0
  echo "loading $SQL_DUMP ..." >&2
  # The dump's own account (admin/admin with every privilege) is not created; its MySQL-8-only database option
  # DEFAULT ENCRYPTION is dropped.
  sed -e '/^CREATE USER /d' -e '/^GRANT /d' -e '/^FLUSH PRIVILEGES/d' -e "s/\/\*!80016 DEFAULT ENCRYPTION='N' \*\///" \
    "$SQL_DUMP" | client --default-character-set=utf8mb4
  local grants
  grants=$(grep -o '^CREATE DATABASE  *IF NOT EXISTS `[^`]*`' "$SQL_DUMP" | sed 's/.*`\(.*\)`/GRANT SELECT, SHOW VIEW ON `\1`.* TO '"'lumos_ro'@'127.0.0.1'"';/')
  client -e "CREATE USER IF NOT EXISTS 'lumos_ro'@'127.0.0.1' IDENTIFIED BY 'lumos_ro'; $grants FLUSH PRIVILEGES;"
  touch "$mark"
}

stop() {
  running || { echo "stopped"; return 0; }
  local pid; pid=$(cat "$PIDFILE")
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  echo "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if running; then echo "running $URL"; else echo "stopped"; exit 3; fi ;;
  *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
