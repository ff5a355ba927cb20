# What the shell tests share; source it after setting passed=0 failed=0.
#   check NAME CONDITION   counts CONDITION (eval'd) as passed, or prints "FAIL: NAME"
#   alive PID              the process runs (not a zombie)
#   wait_for SECONDS COND  polls every 0.1 s until COND holds or the deadline passes
#   free_port              a port the kernel just gave a socket bound to port 0 (for servers
#                          that cannot be told to bind port 0 themselves)
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then pass; else fail "$1"; fi; }
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
wait_for() {
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do eval "$2" && return 0; sleep 0.1; done
  eval "$2"
}
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
