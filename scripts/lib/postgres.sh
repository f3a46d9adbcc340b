# Shared by scripts/with-postgres (a throwaway server for the tests) and scripts/quickstart-postgres
# (the quick start's own server): find the installed PostgreSQL binaries, run them as the right
# user, create, start and stop a server of our own. Sourced, not run; every function takes the
# calling script's name (for its messages) where it may fail.

# pg_find_bindir: set PG_BINDIR to the directory of initdb and pg_ctl (pg_config --bindir, else the
# newest /usr/lib/postgresql/*/bin). Returns 1, PG_BINDIR empty, when none is installed.
pg_find_bindir() {
  PG_BINDIR=""
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    PG_BINDIR=$(pg_config --bindir)
  else
    PG_BINDIR=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  if [ -z "$PG_BINDIR" ] || [ ! -x "$PG_BINDIR/initdb" ] || [ ! -x "$PG_BINDIR/pg_ctl" ]; then
    PG_BINDIR=""
    return 1
  fi
}

# pg_owner PROGRAM: set PG_AS_OWNER, the prefix that runs a command as the servers' owner. initdb
# refuses to run as root: as root, the servers run as the 'postgres' system user.
pg_owner() {
  PG_AS_OWNER=()
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "$1: running as root and there is no 'postgres' user to own a PostgreSQL server." >&2
      return 1
    fi
    PG_AS_OWNER=(runuser -u postgres --)
  fi
}

# pg_as_owner COMMAND...: run it as the servers' owner (see pg_owner).
pg_as_owner() {
  "${PG_AS_OWNER[@]}" "$@"
}

# pg_own_dir DIR: create DIR (mode 755) and give it to the servers' owner.
pg_own_dir() {
  mkdir -p "$1"
  chmod 755 "$1"
  if [ ${#PG_AS_OWNER[@]} -gt 0 ]; then chown postgres "$1"; fi
}

# pg_free_port: print a TCP port of 127.0.0.1 that nothing listens on now.
pg_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pg_port_answers PORT: true when something accepts connections on 127.0.0.1:PORT.
pg_port_answers() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pg_initdb PROGRAM DATA LOG: a new cluster in DATA (superuser postgres, trust authentication,
# UTF8), initdb's output in LOG (printed if it fails).
pg_initdb() {
  pg_as_owner "$PG_BINDIR/initdb" -D "$2" -U postgres --auth=trust -E UTF8 >"$3" 2>&1 \
    || { cat "$3" >&2; echo "$1: initdb failed (above; its log: $3)." >&2; return 1; }
}

# pg_start PROGRAM DATA LOG PORT SOCKET_DIR [SERVER OPTIONS...]: start the server of DATA,
# listening on 127.0.0.1:PORT only and on a socket in SOCKET_DIR, until it accepts connections.
pg_start() {
  local program=$1 data=$2 log=$3 port=$4 sockets=$5
  shift 5
  pg_as_owner "$PG_BINDIR/pg_ctl" -D "$data" -l "$log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $sockets $*" start >/dev/null \
    || {
      tail -n 20 "$log" >&2
      echo "$program: PostgreSQL did not start (above; its log: $log)." >&2
      return 1
    }
}

# pg_running DATA: true when the server of DATA is running.
pg_running() {
  [ -f "$1/postmaster.pid" ] && pg_as_owner "$PG_BINDIR/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# pg_stop DATA [MODE]: stop the server of DATA (MODE fast by default; immediate for throwaways).
pg_stop() {
  pg_as_owner "$PG_BINDIR/pg_ctl" -D "$1" -m "${2:-fast}" -w stop >/dev/null
}
