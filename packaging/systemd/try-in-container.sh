#!/usr/bin/env bash
# Run the county-IT checklist in a throw-away "VM-like" container on this machine, with systemd as PID 1
# (no docker needed: unshare + an overlay of / whose changes live in a tmpfs and vanish afterwards).
#
#   sudo packaging/systemd/try-in-container.sh dist/kiosk        # the bundle from packaging/build.sh
#
# Inside: install.sh from the bundle "USB stick" exactly as county IT runs it, then the one difference a
# container forces: no VT and no GPU, so a drop-in runs the same unit with Xvfb as its X server. Then
# the checks: the unit runs, the app fills the screen, `kill -9` of the app is followed by a restart,
# an app exit with status 75 (重启程序) is followed by a restart, one with status 0 (退出程序) leaves the
# unit inactive, the journal has its logs, `kiosk selftest` reports the missing camera. The exits 75 and 0
# come from a stand-in for the app (KIOSK_BIN, a second drop-in: a shell script that exits with the status
# asked for), since reaching the admin corner by touch needs an enrolled admin; kill -9 hits the real app.
# Needs root, unshare, overlayfs, Xvfb and xinit on this machine (the container sees this machine's /usr).
set -euo pipefail
BUNDLE="$(cd "${1:?usage: try-in-container.sh BUNDLE_DIR}" && pwd)"
CT="${CT:-/tmp/kiosk-ct}"
mkdir -p "$CT"
here="$(cd "$(dirname "$0")" && pwd)"

boot() {  # PID 1 of the new namespaces: build the root, exec systemd
  mount -t tmpfs -o size=4g tmpfs "$CT"
  mkdir -p "$CT/upper" "$CT/work" "$CT/root"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$CT/upper,workdir=$CT/work" "$CT/root"
  local R="$CT/root" h u n
  mount -t proc proc "$R/proc"
  mount --bind "$R/proc/sys" "$R/proc/sys" && mount -o remount,bind,ro "$R/proc/sys"
  mount --bind /sys "$R/sys" && mount -o remount,bind,ro "$R/sys"
  mount -t tmpfs tmpfs "$R/sys/fs/cgroup"
  for h in /sys/fs/cgroup/*; do mkdir -p "$R$h"; mount --bind "$h" "$R$h"; done
  mount --rbind /dev "$R/dev"
  mount -t tmpfs tmpfs "$R/run"
  mount -t tmpfs tmpfs "$R/tmp"
  mkdir -p "$R/media/usb/kiosk"
  mount --bind "$BUNDLE" "$R/media/usb/kiosk"
  ip link set lo up 2>/dev/null || true
  hostname kiosk-ct
  echo kiosk-ct > "$R/etc/hostname"
  : > "$R/etc/machine-id"
  : > "$R/etc/fstab"
  # this machine's own services stay out; nothing may touch the kernel's global state
  rm -f "$R"/etc/systemd/system/{multi-user,timers,sysinit,getty}.target.wants/*
  for u in systemd-sysctl systemd-modules-load systemd-udevd systemd-udev-trigger systemd-udev-settle systemd-binfmt \
           systemd-remount-fs systemd-timesyncd systemd-hwdb-update proc-sys-fs-binfmt_misc.automount \
           sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount \
           dev-hugepages.mount dev-mqueue.mount systemd-pstore e2scrub_reap postgresql apt-daily apt-daily-upgrade \
           console-getty getty@tty1 serial-getty@ttyS0; do
    case $u in *.*) n=$u ;; *) n=$u.service ;; esac
    ln -sf /dev/null "$R/etc/systemd/system/$n"
  done
  exec chroot "$R" /usr/bin/env -i container=unshare TERM=dumb /lib/systemd/systemd --log-target=journal --log-level=info
}

if [ "${1:-}" = "--boot" ]; then shift; fi
if [ "${KIOSK_CT_BOOT:-}" = 1 ]; then boot; fi

KIOSK_CT_BOOT=1 BUNDLE="$BUNDLE" CT="$CT" unshare --pid --fork --mount --cgroup --uts --net --propagation private \
  "$0" "$BUNDLE" > "$CT.console.log" 2>&1 &
UNSHARE=$!
for _ in $(seq 100); do
  PID1=$(pgrep -P "$UNSHARE" -x systemd || true)
  [ -n "$PID1" ] && break
  sleep 0.1
done
[ -n "$PID1" ] || { echo "systemd did not start (see $CT.console.log)"; exit 1; }
in_ct() { nsenter -t "$PID1" -m -p -u -n -r -w "$@"; }
for _ in $(seq 100); do
  state=$(in_ct systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 0.2
done
run() { printf '\n$ %s\n' "$*"; in_ct bash -c "$*" 2>&1 || printf '(exit %s)\n' "$?"; }

run 'systemctl is-system-running; cat /proc/1/comm'
run '/media/usb/kiosk/install.sh --no-start'
run 'mkdir -p /etc/systemd/system/village-kiosk.service.d && cat > /etc/systemd/system/village-kiosk.service.d/container.conf <<EOT
# the container has no VT and no GPU: same unit, Xvfb as the X server
[Service]
PAMName=
TTYPath=
StandardInput=null
UtmpIdentifier=
ExecStartPre=
ExecStart=
ExecStart=/usr/local/bin/village-kiosk-start /usr/local/bin/village-kiosk-session -- /usr/bin/Xvfb :0 -screen 0 1366x768x24 -nolisten tcp
EOT
systemctl daemon-reload && systemctl start village-kiosk && sleep 1 && systemctl is-active village-kiosk'
run 'for i in $(seq 90); do w=$(DISPLAY=:0 xdotool search --onlyvisible --name "村口认证" 2>/dev/null | head -1); [ -n "$w" ] && break; sleep 1; done; DISPLAY=:0 xdotool getwindowname $w; DISPLAY=:0 xdotool getwindowgeometry $w'
run 'systemctl show village-kiosk -p MainPID -p NRestarts; ps -o pid,user,args -u kiosk'
run 'app=$(pgrep -u kiosk -x kiosk | head -1); echo "kill -9 $app (the kiosk app)"; kill -9 $app; sleep 4; systemctl show village-kiosk -p MainPID -p NRestarts; ps -o pid,user,args -u kiosk'
run 'for i in $(seq 90); do w=$(DISPLAY=:0 xdotool search --onlyvisible --name "村口认证" 2>/dev/null | head -1); [ -n "$w" ] && break; sleep 1; done; DISPLAY=:0 xdotool getwindowgeometry $w'
# the app's own exit status decides: a stand-in app that exits with the status written to /var/lib/village-kiosk/stand-in-exit
# (written as the kiosk user, so that the stand-in can remove it)
run 'cat > /usr/local/bin/kiosk-exit-stand-in <<EOT
#!/bin/sh
# stand-in for the kiosk app: runs until /var/lib/village-kiosk/stand-in-exit holds a status, then exits with it
while [ ! -s /var/lib/village-kiosk/stand-in-exit ]; do sleep 0.2; done
st=\$(cat /var/lib/village-kiosk/stand-in-exit); rm -f /var/lib/village-kiosk/stand-in-exit; exit "\$st"
EOT
chmod 755 /usr/local/bin/kiosk-exit-stand-in
printf "[Service]\nEnvironment=KIOSK_BIN=/usr/local/bin/kiosk-exit-stand-in\n" > /etc/systemd/system/village-kiosk.service.d/stand-in.conf
systemctl daemon-reload && systemctl restart village-kiosk && sleep 2 && systemctl show village-kiosk -p ActiveState -p NRestarts; ps -o pid,user,args -u kiosk'
run 'runuser -u kiosk -- sh -c "echo 75 > /var/lib/village-kiosk/stand-in-exit"; echo "app exits 75 (重启程序)"; sleep 5; systemctl show village-kiosk -p ActiveState -p SubState -p NRestarts -p ExecMainStatus; systemctl is-active village-kiosk'
run 'runuser -u kiosk -- sh -c "echo 0 > /var/lib/village-kiosk/stand-in-exit"; echo "app exits 0 (退出程序)"; sleep 5; systemctl show village-kiosk -p ActiveState -p SubState -p NRestarts -p ExecMainStatus; sleep 5; systemctl is-active village-kiosk; ps -o pid,user,args -u kiosk'
run 'rm /etc/systemd/system/village-kiosk.service.d/stand-in.conf; systemctl daemon-reload; systemctl start village-kiosk; sleep 1; systemctl is-active village-kiosk'
run 'journalctl -u village-kiosk --no-pager -o cat | grep -E "^(Started|Stopped|Stopping|village-kiosk.service: (Main process exited|Scheduled restart|Failed with result|Deactivated successfully))|^village-kiosk-(session|start):" '
run 'journalctl -u village-kiosk --no-pager -o cat | grep -E "^(INFO|WARNING|ERROR) " | head -n 6'
run 'cat /etc/systemd/journald.conf.d/village-kiosk.conf | grep -v "^#"; journalctl --disk-usage'
run 'cd /tmp && runuser -u kiosk -- env KIOSK_HOME=/var/lib/village-kiosk/data KIOSK_KEY_FILE=/var/lib/village-kiosk/keys/template.key /opt/village-kiosk/kiosk selftest; echo "exit $?"'
in_ct systemctl poweroff >/dev/null 2>&1 || true
wait "$UNSHARE" 2>/dev/null || true
rmdir /sys/fs/cgroup/unified/init.scope /sys/fs/cgroup/systemd/init.scope 2>/dev/null || true
