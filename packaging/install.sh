#!/usr/bin/env bash
# Install the kiosk bundle (dist/kiosk from packaging/build.sh) as an unattended kiosk, for county IT.
#
#   sudo ./install.sh                       # from inside the bundle folder (dist/kiosk/install.sh)
#   sudo ./install.sh --bundle /media/usb/kiosk [--apt] [--user kiosk] [--no-start]
#   ./install.sh --bundle DIR --root /mnt/target --no-user --no-systemctl   # into a mounted root (image build)
#
# What it does (each step says so on the console):
#   1. (--apt) installs what the session needs: xserver-xorg xinit x11-xserver-utils and Qt's X libraries
#   2. makes the system user `kiosk` (home /var/lib/village-kiosk) in the groups of the camera, sound,
#      touch screen and serial/USB ID-card readers (video audio input render dialout plugdev, where they exist)
#   3. copies the bundle to /var/lib/village-kiosk/app (the previous one kept as app.old), owned by the
#      kiosk user so that village-kiosk-start can swap in a county-signed update in the maintenance
#      window; /opt/village-kiosk is a link to it (the commands below and in docs/install.md use that name)
#   4. installs /usr/local/bin/village-kiosk-start and -session, /etc/systemd/system/village-kiosk.service
#      and the journald limits /etc/systemd/journald.conf.d/village-kiosk.conf; lets Xorg start for the
#      kiosk user (/etc/X11/Xwrapper.config)
#   5. systemctl daemon-reload, enable (start at boot) and, unless --no-start, start the kiosk now
# Data (kiosk.db, kiosk.toml) lives in /var/lib/village-kiosk/data, the keys in /var/lib/village-kiosk/keys;
# re-running the script (an update) never touches them.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bundle="$here"
root=""
user="kiosk"
do_user=1
do_systemctl=1
do_start=1
do_apt=0

usage() { sed -n '2,20p' "$0"; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle="$(cd "$2" && pwd)"; shift 2 ;;
    --root) root="${2%/}"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --no-user) do_user=0; shift ;;
    --no-systemctl) do_systemctl=0; shift ;;
    --no-start) do_start=0; shift ;;
    --apt) do_apt=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage 2 ;;
  esac
done

say() { printf '== %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ -x "$bundle/kiosk" ] || die "no kiosk program in $bundle (give the bundle folder with --bundle: dist/kiosk from packaging/build.sh)"
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then die "run as root (sudo ./install.sh)"; fi

# The unit files ship beside this script (source tree: packaging/systemd) or in the bundle
# (PyInstaller puts data files under _internal/).
units=""
for d in "$here/systemd" "$bundle/systemd" "$bundle/_internal/systemd" "$bundle/_internal/packaging/systemd"; do
  if [ -f "$d/village-kiosk.service" ]; then units="$d"; break; fi
done
[ -n "$units" ] || die "village-kiosk.service not found beside install.sh or in the bundle"

if [ "$do_apt" = 1 ]; then
  say "installing the X server and Qt's libraries (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends xserver-xorg xinit x11-xserver-utils libgl1 libegl1 \
    libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libglib2.0-0 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 \
    libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libnss3 \
    libasound2 libpulse0
fi

home="/var/lib/village-kiosk"
if [ "$do_user" = 1 ]; then
  if id "$user" >/dev/null 2>&1; then
    say "user $user exists"
  else
    say "making the system user $user (home $home)"
    useradd --system --home-dir "$home" --create-home --shell /usr/sbin/nologin --user-group "$user"
  fi
  groups=""
  for g in video audio input render dialout plugdev lp; do
    getent group "$g" >/dev/null && groups="$groups,$g"
  done
  [ -n "$groups" ] && usermod -a -G "${groups#,}" "$user" && say "$user is in: ${groups#,}"
fi

say "data in $root$home/data, keys in $root$home/keys (kept across updates)"
install -d -m 0700 "$root$home" "$root$home/data" "$root$home/keys"
if [ "$do_user" = 1 ]; then chown "$user:" "$root$home" "$root$home/data" "$root$home/keys"; fi

app="$home/app"
say "copying the bundle to $root$app (/opt/village-kiosk links to it)"
if [ -d "$root$app" ]; then
  rm -rf "$root$app.old"
  mv "$root$app" "$root$app.old"
fi
cp -a "$bundle" "$root$app"
# The updates' swap renames in $home as the kiosk user (packaging/systemd/village-kiosk-start).
if [ "$do_user" = 1 ]; then chown -R "$user:" "$root$app"; fi
install -d "$root/opt"
if [ -d "$root/opt/village-kiosk" ] && [ ! -L "$root/opt/village-kiosk" ]; then
  rm -rf "$root/opt/village-kiosk.old"
  mv "$root/opt/village-kiosk" "$root/opt/village-kiosk.old"  # an install from before the app moved
fi
ln -sfn "$app" "$root/opt/village-kiosk"

say "installing the session, the unit and the journal limits"
install -D -m 0755 "$units/village-kiosk-start" "$root/usr/local/bin/village-kiosk-start"
install -D -m 0755 "$units/village-kiosk-session" "$root/usr/local/bin/village-kiosk-session"
install -D -m 0644 "$units/village-kiosk.service" "$root/etc/systemd/system/village-kiosk.service"
install -D -m 0644 "$units/journald-village-kiosk.conf" "$root/etc/systemd/journald.conf.d/village-kiosk.conf"
install -d "$root/etc/X11"
printf 'allowed_users=anybody\nneeds_root_rights=auto\n' > "$root/etc/X11/Xwrapper.config"

if [ "$do_systemctl" = 1 ]; then
  say "enabling village-kiosk.service (starts at boot, restarts when it stops)"
  systemctl daemon-reload
  systemctl restart systemd-journald 2>/dev/null || true
  systemctl enable village-kiosk.service
  if [ "$do_start" = 1 ]; then
    systemctl restart village-kiosk.service
    say "started: systemctl status village-kiosk; logs: journalctl -u village-kiosk"
  fi
fi
say "done. Check the terminal: sudo -u $user KIOSK_HOME=$home/data KIOSK_KEY_FILE=$home/keys/template.key /opt/village-kiosk/kiosk selftest"
