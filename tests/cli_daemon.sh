#!/bin/sh
# cli_daemon.sh - start/stop, the socket and the global options: a second
# start on a served socket is refused, a stale socket is replaced, a bad
# topology leaves nothing behind, --host works before and after the
# subcommand, and usage errors exit 2.
. "$(dirname "$0")/clilib.sh"

cat >"$T/two.topo" <<EOT
[host alpha]
-machine q35,cxl=on
-object memory-backend-file,id=m,mem-path=$T/shared.raw,size=256M,share=on
-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52
-device cxl-rp,id=rp0,bus=cxl.0,port=0,chassis=0,slot=0
-device cxl-type3,bus=rp0,volatile-memdev=m,id=dev-alpha
-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G
[host beta]
-machine q35,cxl=on
-object memory-backend-file,id=m,mem-path=$T/shared.raw,size=256M,share=on
-device pxb-cxl,id=cxl.0,bus=pcie.0,bus_nr=52
-device cxl-rp,id=rp0,bus=cxl.0,port=0,chassis=0,slot=0
-device cxl-type3,bus=rp0,volatile-memdev=m,id=dev-beta
-M cxl-fmw.0.targets.0=cxl.0,cxl-fmw.0.size=4G
EOT

# help, version, usage errors
run 0 --help
out_has "create-region"
out_has "translate"
run 0 help
out_has "destroy-region"
run 0 help read
out_has "usage: cxlemu read REGION OFFSET LENGTH"
run 0 version
out_has "^[0-9][0-9.]*$"
run 2
run 2 frobnicate
err_has "^cxlemu: 'frobnicate' is not a cxlemu command"
run 2 list --bogus
run 2 read region0 0
run 2 --host

# nothing served yet
run 1 stop
err_has "^cxlemu: no fabric is being served on $SOCK"
run 1 list

# a topology that does not load: error with file and line, no socket
printf -- '-machine q35,cxl=on\n-device cxl-rp,id=rp0,bus=nowhere\n' >"$T/bad.topo"
run 1 start "$T/bad.topo"
err_has "^cxlemu: $T/bad.topo:2: "
[ ! -e "$SOCK" ] || fail "a failed start left a socket"

# start (CXLEMU_SOCKET names the socket), then a second start is refused
run 0 start "$T/two.topo"
err_has "serving .*two.topo (2 hosts: alpha, beta) on $SOCK"
[ -S "$SOCK" ] || fail "no socket after start"
run 1 start "$T/two.topo"
err_has "^cxlemu: a fabric is already being served on $SOCK$"
run 1 --socket "$SOCK" start
err_has "already being served"

# --host before or after the subcommand; default is the first host
run 0 list -M
out_has '"host":"dev-alpha"'
run 0 --host beta list -M
out_has '"host":"dev-beta"'
run 0 list -M --host beta
out_has '"host":"dev-beta"'
run 0 list --host=beta -M
out_has '"host":"dev-beta"'
CXLEMU_HOST=beta "$CXLEMU_BIN" list -M >"$T/out" 2>"$T/err" ||
	fail "CXLEMU_HOST=beta list"
out_has '"host":"dev-beta"'
run 1 --host gamma list
err_has "^cxlemu: no host 'gamma' in this fabric (hosts: alpha, beta)"

# another socket is another (absent) fabric
run 1 --socket "$T/other.sock" list
err_has "no fabric is being served on $T/other.sock"

# stop removes the socket and waits for the daemon
run 0 stop
[ ! -e "$SOCK" ] || fail "socket still there after stop"
run 1 list

# --log: connections, what changed the fabric and what was refused, with
# the peer's pid; read-only requests that succeed are not logged
run 1 start --log "$T/nodir/log" "$T/two.topo"
err_has "cannot open log file $T/nodir/log"
[ ! -e "$SOCK" ] || fail "a start with a bad log file left a socket"
run 0 start --log "$T/log" "$T/two.topo"
run 0 --host beta create-region -d decoder0.0 -t ram -m mem0
run 1 --host beta create-region -d decoder0.0 -t ram -m mem7
run 0 --host beta list -R
run 0 stop
grep -q 'cxlemu\[[0-9]*\]: serving .*two.topo' "$T/log" || fail "log: start"
grep -q 'client 1 connected to host beta.s socket (pid [0-9]*, uid [0-9]*, gid [0-9]*)' "$T/log" ||
	fail "log: connection"
grep -q 'client [0-9]* connected to the administrative socket' "$T/log" ||
	fail "log: the administrative connection"
grep -q 'host beta: {"op":"create-region".*"mem0"' "$T/log" ||
	fail "log: create-region"
grep -q 'host beta: refused .*mem7.*: .*mem7' "$T/log" ||
	fail "log: the refusal and its reason"
grep -q '"op":"list"' "$T/log" && fail "log: a read-only list was logged"
grep -q 'host alpha: {"op":"stop"}' "$T/log" || fail "log: stop"
tail -n 1 "$T/log" | grep -q ': stopped$' || fail "log: last line"
[ "$(grep -c '^20[0-9-]*T[0-9:.]*Z cxlemu' "$T/log")" = \
  "$(wc -l <"$T/log")" ] || fail "log: a line without time and pid"


# a daemon killed without cleanup leaves a stale socket: start replaces it
run 0 --socket "$SOCK" start "$T/two.topo"
pid=$(daemon_pid)
[ -n "$pid" ] || fail "cannot find the daemon's pid"
kill -9 "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
[ -S "$SOCK" ] || fail "expected a stale socket after kill -9"
run 1 list
err_has "stale"
run 0 start "$T/two.topo"
run 0 list -M
out_has '"host":"dev-alpha"'
run 0 stop

# SIGTERM: the daemon removes its socket and exits
run 0 --socket "$SOCK" start "$T/two.topo"
pid=$(daemon_pid)
[ -n "$pid" ] || fail "cannot find the daemon's pid"
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -0 "$pid" 2>/dev/null && fail "daemon still running after SIGTERM"
[ ! -e "$SOCK" ] || fail "SIGTERM left the socket"

# the daemon keeps none of its caller's descriptors (a shell's $(...)
# would wait for it forever)
"$CXLEMU_BIN" --socket "$SOCK" start "$T/two.topo" 2>/dev/null 3>"$T/fd3" ||
	fail "start with fd 3 open"
pid=$(daemon_pid)
[ -n "$pid" ] || fail "cannot find the daemon's pid"
for f in /proc/"$pid"/fd/*; do
	case $(readlink "$f") in
	"$T/fd3") fail "the daemon holds its caller's fd 3" ;;
	esac
done
run 0 stop

# --foreground serves until stopped, then exits 0
"$CXLEMU_BIN" start --foreground "$T/two.topo" >"$T/fg.out" 2>"$T/fg.err" &
fg=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
run 0 list -M
out_has '"memdev":"mem0"'
run 0 stop
wait "$fg"
rc=$?
[ "$rc" = 0 ] || { cat "$T/fg.err"; fail "foreground daemon exited $rc"; }
grep -q "serving" "$T/fg.err" || fail "foreground daemon did not say so"
grep -q "client [0-9]* connected" "$T/fg.err" ||
	fail "the foreground daemon does not log to stderr"

# a regular file where the socket should be is never replaced
: >"$T/plain"
run 1 --socket "$T/plain" start "$T/two.topo"
err_has "not a socket"
[ -f "$T/plain" ] || fail "the regular file was replaced"
echo "cli_daemon: ok"
