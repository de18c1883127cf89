#!/bin/sh
# Install what the lab needs: QEMU and the kernel the guests boot from
# Debian's bookworm-backports suite (QEMU 10.0, Linux 6.12: volatile CXL
# memory, no pass-through trap, dynamic capacity), and from bookworm
# itself busybox-static, ndctl's tools and what scripts/lab/guest.sh uses
# to pack them.
#
#   scripts/lab/deps.sh [--old] [--no-backports]
#
# The backports suite is enabled from this machine's own Debian source
# entry (its URIs, components and keyring; no address is written here):
# /etc/apt/sources.list.d/cxlemu-backports.sources, or nothing when an
# entry for the suite is already there.  When the suite cannot be reached
# the lab stays on bookworm's QEMU 7.2 and Linux 6.1 and this says so;
# it exits 1 only when the lab cannot run at all.
#
# --old also keeps bookworm's QEMU 7.2 and Linux 6.1 usable beside the new
# ones: QEMU 7.2 unpacked under /opt/cxlemu-lab/qemu-7.2 (then `cxlemu lab
# up --qemu /opt/cxlemu-lab/qemu-7.2/bin/qemu-system-x86_64`), the 6.1
# kernel package installed (`--kernel 6.1`).
#
# As root it runs apt-get; otherwise it only says what is missing.
set -e
old=0
backports=1
for a in "$@"; do
	case $a in
	--old) old=1 ;;
	--no-backports) backports=0 ;;
	*) echo "usage: scripts/lab/deps.sh [--old] [--no-backports]" >&2; exit 2 ;;
	esac
done
t0=$(date +%s)
say() { echo "cxlemu lab deps: [$(($(date +%s) - t0)) s] $*" >&2; }

base="busybox-static ndctl daxctl cpio xz-utils zstd kmod gcc libc6-dev"
codename=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-bookworm}")
suite=$codename-backports

missing() {
	m=""
	for p in $1; do
		dpkg -s "$p" >/dev/null 2>&1 || m="$m $p"
	done
	echo "$m"
}
# the version a package has, from the suite named (empty: none)
installed_from_backports() {
	v=$(dpkg-query -W -f '${Version}' "$1" 2>/dev/null) || return 1
	case $v in *bpo*) return 0 ;; esac
	# qemu from backports is 1:10.x; a kernel meta package 6.12
	case $1 in
	qemu-system-x86) case $v in 1:[89]*|1:1[0-9]*) return 0 ;; esac ;;
	esac
	return 1
}

root=1
{ [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; } || root=0
export DEBIAN_FRONTEND=noninteractive

m=$(missing "$base qemu-system-x86 linux-image-amd64")
need_bpo=0
if [ $backports = 1 ]; then
	installed_from_backports qemu-system-x86 || need_bpo=1
	installed_from_backports linux-image-amd64 || need_bpo=1
fi
need_old=0
if [ $old = 1 ]; then
	[ -x /opt/cxlemu-lab/qemu-7.2/bin/qemu-system-x86_64 ] || need_old=1
	ls /boot/vmlinuz-6.1.* >/dev/null 2>&1 || need_old=1
fi
[ -z "$m" ] && [ $need_bpo = 0 ] && [ $need_old = 0 ] && exit 0
if [ $root = 0 ]; then
	[ -n "$m" ] && echo "cxlemu lab: missing Debian packages:$m (as root: apt-get install$m)" >&2
	[ $need_bpo = 1 ] && echo "cxlemu lab: QEMU and the kernel are not from $suite (as root: scripts/lab/deps.sh)" >&2
	[ -n "$m" ] && exit 1
	exit 0
fi

apt_quiet() {
	log=$(mktemp)
	if apt-get "$@" >"$log" 2>&1; then
		rm -f "$log"
		return 0
	fi
	tail -5 "$log" >&2
	rm -f "$log"
	return 1
}

# ---- the machine's own Debian entry, for the backports suite ----
# prints "URIS|COMPONENTS|SIGNED-BY" of the first entry whose suites
# include the release itself
own_entry() {
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v want="$codename" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && uris != "" &&
				    (" " suites " ") ~ (" " want " ") && !done) {
					print uris "|" comps "|" signed
					done = 1
				}
				types = uris = suites = comps = signed = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{
				k = $1; sub(/:$/, "", k); $1 = ""; sub(/^ +/, "")
				if (k == "Types") types = $0
				else if (k == "URIs") uris = $0
				else if (k == "Suites") suites = $0
				else if (k == "Components") comps = $0
				else if (k == "Signed-By") signed = $0
			}
			END { flush() }' "$f"
	done | head -1
}
own_line() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk -v want="$codename" '$1 == "deb" {
			i = 2
			if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			if ($(i + 1) == want) { print; exit }
		}'
}
have_suite() {
	grep -qs "$suite" /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources
}
enable_backports() {
	have_suite && return 0
	e=$(own_entry)
	if [ -n "$e" ]; then
		uris=${e%%|*}; rest=${e#*|}; comps=${rest%%|*}; signed=${rest#*|}
		{
			echo "# added by cxlemu's scripts/lab/deps.sh: $suite from this"
			echo "# machine's own Debian entry"
			echo "Types: deb"
			echo "URIs: $uris"
			echo "Suites: $suite"
			echo "Components: ${comps:-main}"
			[ -n "$signed" ] && echo "Signed-By: $signed"
		} >/etc/apt/sources.list.d/cxlemu-backports.sources
		say "enabled $suite from this machine's entry ($uris)"
		return 0
	fi
	l=$(own_line)
	if [ -n "$l" ]; then
		echo "$l" | awk -v want="$codename" -v s="$suite" '{
			for (i = 1; i <= NF; i++) if ($i == want) { $i = s; break }
			print }' >/etc/apt/sources.list.d/cxlemu-backports.list
		say "enabled $suite from this machine's entry ($l)"
		return 0
	fi
	say "no Debian source entry for $codename on this machine to derive $suite from"
	return 1
}

rc=0
# what backports brings is not first installed from the release itself
[ $need_bpo = 1 ] && m=$(echo "$m" | sed 's/ qemu-system-x86//; s/ linux-image-amd64//')
install_release() {
	[ -n "$1" ] || return 0
	say "installing Debian packages:$1"
	apt_quiet install -y --no-install-recommends $1 ||
		{ apt_quiet update && apt_quiet install -y --no-install-recommends $1; } ||
		{ echo "cxlemu lab: could not install:$1" >&2; exit 1; }
}
install_release "$m"
if [ $need_bpo = 1 ]; then
	if enable_backports && say "apt-get update (for $suite)" && apt_quiet update &&
	   apt-cache policy qemu-system-x86 | grep -q "$suite"; then
		say "installing qemu-system-x86 and linux-image-amd64 from $suite (about 150 MB)"
		if ! apt_quiet install -y --no-install-recommends -t "$suite" \
			qemu-system-x86 linux-image-amd64; then
			say "installing from $suite failed; the lab stays on $codename's QEMU and kernel"
			install_release "$(missing "qemu-system-x86 linux-image-amd64")"
		fi
	else
		install_release "$(missing "qemu-system-x86 linux-image-amd64")"
		say "NOTE: $suite cannot be reached: the lab runs on $codename's QEMU $(qemu-system-x86_64 --version | sed -n 's/.*version \([^ ]*\).*/\1/p') and Linux 6.1, without volatile CXL memory (QEMU >= 8.1) or dynamic capacity (QEMU >= 9.1); the checks that need them are skipped"
	fi
	say "QEMU: $(qemu-system-x86_64 --version | head -1)"
	say "kernels: $(ls /boot | sed -n 's/^vmlinuz-//p' | tr '\n' ' ')"
fi
if [ $old = 1 ] && [ $need_old = 1 ]; then
	# bookworm's QEMU 7.2, unpacked beside the installed one
	if [ ! -x /opt/cxlemu-lab/qemu-7.2/bin/qemu-system-x86_64 ]; then
		d=$(mktemp -d)
		v=$(apt-cache policy qemu-system-x86 | awk -v c="$codename" '
			# origin lines: "500 URI SUITE/COMPONENT ..."
			$2 ~ /^[a-z]+:\/\// || $2 ~ /^\// {
				if ($3 ~ ("^" c "/") && v ~ /^1:7/) { print v; exit }
				next
			}
			/^ +(\*\*\* )?[0-9]/ { v = $1 == "***" ? $2 : $1 }')
		# the binary, and its accelerator modules (qemu-system-common),
		# which must not be the installed QEMU's
		if [ -n "$v" ] && (cd "$d" && apt_quiet download \
			"qemu-system-x86=$v" "qemu-system-common=$v"); then
			for deb in "$d"/*.deb; do dpkg-deb -x "$deb" "$d/x"; done
			o=/opt/cxlemu-lab/qemu-7.2
			mkdir -p $o/bin $o/lib
			cp -r "$d"/x/usr/lib/*/qemu $o/lib/
			cp "$d/x/usr/bin/qemu-system-x86_64" $o/lib/
			# its firmware is found where 7.2 looked for it through
			# the symlinks of its own data package: seabios's folder
			printf '#!/bin/sh\nQEMU_MODULE_DIR=%s/lib/qemu exec %s/lib/qemu-system-x86_64 -L /usr/share/qemu -L /usr/share/seabios "$@"\n' \
				$o $o >$o/bin/qemu-system-x86_64
			chmod 755 $o/bin/qemu-system-x86_64
			say "QEMU $v unpacked: /opt/cxlemu-lab/qemu-7.2/bin/qemu-system-x86_64"
		else
			say "could not fetch $codename's QEMU 7.2"
			rc=1
		fi
		rm -rf "$d"
	fi
	if ! ls /boot/vmlinuz-6.1.* >/dev/null 2>&1; then
		k=$(apt-cache depends "linux-image-amd64=$(apt-cache policy linux-image-amd64 |
			awk '/^ +(\*\*\* )?6\.1\./ { print ($1 == "***" ? $2 : $1); exit }')" 2>/dev/null |
			awk '/Depends: linux-image-6/ { print $2; exit }')
		if [ -n "$k" ] && apt_quiet install -y --no-install-recommends "$k"; then
			say "installed $k (boot it with --kernel 6.1)"
		else
			say "could not install $codename's Linux 6.1 kernel"
			rc=1
		fi
	fi
fi
exit $rc
