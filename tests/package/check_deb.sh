#!/usr/bin/env bash
# Builds the sluice .deb from a release build tree and checks it as an admin's machine would see
# it: lintian finds no error or warning, systemd-analyze verify accepts the unit (against this
# machine's systemd units), the unit runs sluiced unprivileged and sandboxed, the conffile is
# declared, and the packaged (stripped) programs run.
#   check_deb.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$build" && cpack -G DEB -B "$work/out" >/dev/null)
deb=$(ls "$work"/out/sluice_*.deb)
echo "built $(basename "$deb")"

lintian --fail-on error,warning --tag-display-limit 0 "$deb" 2> >(grep -v "root privileges" >&2)

root=$work/root
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$work/control"
for file in usr/sbin/sluiced usr/bin/sluicectl usr/bin/sluice-client usr/bin/sluice-load \
            lib/systemd/system/sluice.service etc/default/sluice usr/share/doc/sluice/admin.md \
            usr/share/doc/sluice/README.md usr/share/doc/sluice/copyright; do
  [[ -e "$root/$file" ]] || { echo "the package lacks /$file" >&2; exit 1; }
done
grep -qx /etc/default/sluice "$work/control/conffiles"
grep -q "adduser --system" "$work/control/postinst"
grep -q "install -d -m 0700 -o sluice -g sluice /var/lib/sluice" "$work/control/postinst"
for script in postinst prerm postrm; do sh -n "$work/control/$script"; done

unit=$root/lib/systemd/system/sluice.service
for line in "User=sluice" "AmbientCapabilities=CAP_NET_BIND_SERVICE" \
            "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" "NoNewPrivileges=yes" \
            "ProtectSystem=strict" "PrivateTmp=yes" "ReadWritePaths=/var/lib/sluice" \
            "Restart=on-failure" "KillSignal=SIGTERM"; do
  grep -qx "$line" "$unit" || { echo "the unit lacks $line" >&2; exit 1; }
done
# verify resolves the unit's dependencies (sysinit.target, ...) inside --root: give it this
# machine's units beside the packaged one. Any output (an unknown key, a bad path) is a failure.
cp -rn /lib/systemd/system/. "$root/lib/systemd/system/" 2>/dev/null || true
verify=$(cd "$work" && systemd-analyze verify --root="$root" "$unit" 2>&1) || {
  echo "$verify" >&2
  exit 1
}
[[ -z "$verify" ]] || { echo "systemd-analyze verify: $verify" >&2; exit 1; }

for program in usr/sbin/sluiced usr/bin/sluicectl usr/bin/sluice-client usr/bin/sluice-load; do
  "$root/$program" --help >/dev/null
done
echo "package ok"
