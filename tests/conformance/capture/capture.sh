#!/usr/bin/env bash
# capture.sh SCENARIO [OUTDIR]
#
# Boots a real Debian bookworm Linux 6.1 guest on QEMU (TCG) with a busybox
# initramfs whose /init drives one device model through its real Linux
# driver, records QEMU's trace-event log, filters it down to the lines that
# matter for that device and writes OUTDIR/SCENARIO.log.gz plus a notes file
# OUTDIR/SCENARIO.md.
#
# Scenarios: e1000e e1000e-nomsi igb ps2 ide pci   (see ../README.md)
#
# Everything it needs is fetched on first use (Debian packages through apt)
# and cached under ${XDG_CACHE_HOME:-$HOME/.cache}/devfuzz-capture
# (override with DEVFUZZ_CAPTURE_CACHE).  Other knobs (environment):
#   CAPTURE_TIMEOUT   hard limit for one QEMU run in seconds (default 420)
#   QEMU              QEMU binary (default qemu-system-x86_64)
#   KEEP_RAW=1        also keep the raw trace log (gzipped) in the cache dir
#   CAPTURE_APPEND    extra kernel command line arguments
#   CAPTURE_EARLY_SCAN=1  leave out pci=noearly (see "Kernel command line")
set -euo pipefail

usage() { echo "usage: $0 {e1000e|e1000e-nomsi|igb|ps2|ide|pci} [OUTDIR]" >&2; exit 2; }
[ $# -ge 1 ] || usage
SCENARIO=$1
case $SCENARIO in e1000e|e1000e-nomsi|igb|ps2|ide|pci) ;; *) usage ;; esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUTDIR=${2:-$HERE/../captures}
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
CACHE=${DEVFUZZ_CAPTURE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/devfuzz-capture}
TIMEOUT=${CAPTURE_TIMEOUT:-420}
QEMU=${QEMU:-qemu-system-x86_64}
mkdir -p "$CACHE"

log() { echo "capture[$SCENARIO]: $*" >&2; }
die() { echo "capture[$SCENARIO]: error: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ---------------------------------------------------------------- QEMU ----
ensure_qemu() {
    if ! command -v "$QEMU" >/dev/null 2>&1; then
        [ "$QEMU" = qemu-system-x86_64 ] || die "QEMU=$QEMU not found"
        command -v apt-get >/dev/null || die "qemu-system-x86_64 missing and no apt-get to install it"
        log "installing QEMU from bookworm-backports"
        local src=/etc/apt/sources.list.d/backports.sources
        if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
            as_root tee "$src" >/dev/null <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        fi
        as_root apt-get update
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -t bookworm-backports qemu-system-x86
    fi
    QEMU_VERSION=$("$QEMU" --version | head -n1)
    case $QEMU_VERSION in
        *"version 10."*) ;;
        *) log "warning: expected QEMU 10.x, got: $QEMU_VERSION" ;;
    esac
}

# ------------------------------------------------------ kernel, busybox ----
# apt-get download writes into the current directory.  Run it in a directory
# the _apt user can write to, to avoid the "unsandboxed" warning noise.
apt_download() {
    local dir=$1; shift
    ( cd "$dir" && apt-get download "$@" ) >&2 || die "apt-get download $* failed (try: apt-get update)"
}

ensure_guest_bits() {
    local debs=$CACHE/debs
    mkdir -p "$debs"
    # busybox (static, so it runs as the whole userland of the initramfs)
    if [ ! -x "$CACHE/busybox/bin/busybox" ]; then
        ls "$debs"/busybox-static_*.deb >/dev/null 2>&1 || apt_download "$debs" busybox-static
        rm -rf "$CACHE/busybox"
        dpkg-deb -x "$(ls "$debs"/busybox-static_*.deb | tail -n1)" "$CACHE/busybox"
    fi
    BUSYBOX=$CACHE/busybox/bin/busybox
    # kernel: the bookworm linux-image-amd64 meta package points at the real
    # linux-image-6.1.0-N-amd64 package, which has vmlinuz and all modules.
    if ! ls "$CACHE"/kernel/boot/vmlinuz-* >/dev/null 2>&1; then
        if ! ls "$debs"/linux-image-6.1.*.deb >/dev/null 2>&1; then
            ls "$debs"/linux-image-amd64_*.deb >/dev/null 2>&1 || apt_download "$debs" linux-image-amd64
            local meta real
            meta=$(ls "$debs"/linux-image-amd64_*.deb | tail -n1)
            real=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n1)
            case $real in linux-image-6.1.*) ;; *)
                die "linux-image-amd64 candidate depends on '$real', expected bookworm's 6.1 (pin apt to bookworm)";;
            esac
            apt_download "$debs" "$real"
        fi
        local kdeb
        kdeb=$(ls "$debs"/linux-image-6.1.*.deb | tail -n1)
        log "extracting $(basename "$kdeb")"
        rm -rf "$CACHE/kernel.tmp"
        dpkg-deb -x "$kdeb" "$CACHE/kernel.tmp"
        KVER=$(ls "$CACHE/kernel.tmp/lib/modules" | head -n1)
        # the .deb has no modules.dep (depmod runs at install time); busybox's
        # depmod makes one.  Compressed modules (.ko.xz/.ko.zst in some
        # kernels) are unpacked first so that busybox insmod can load them.
        find "$CACHE/kernel.tmp/lib/modules" -name '*.ko.xz' -exec xz -d {} +
        find "$CACHE/kernel.tmp/lib/modules" -name '*.ko.zst' -exec zstd -q -d --rm {} +
        "$BUSYBOX" depmod -b "$CACHE/kernel.tmp" "$KVER"
        dpkg-deb -f "$kdeb" Package Version > "$CACHE/kernel.tmp/PACKAGE"
        mv "$CACHE/kernel.tmp" "$CACHE/kernel"
    fi
    VMLINUZ=$(ls "$CACHE"/kernel/boot/vmlinuz-* | tail -n1)
    KVER=$(ls "$CACHE/kernel/lib/modules" | head -n1)
    KPKG=$(sed 's/^[A-Za-z]*: //' "$CACHE/kernel/PACKAGE" | paste -sd' ')
    MODDIR=$CACHE/kernel/lib/modules/$KVER
}

# Print the .ko paths (relative to $MODDIR) needed for the named modules, in
# load order, each once.  modules.dep lists every module's full dependency
# closure with the deepest last, so loading the list backwards works.
module_closure() {
    local m path deps seen=" " out=()
    for m in "$@"; do
        path=$(awk -v m="$m" -F: '{ n=$1; sub(/.*\//, "", n); sub(/\.ko$/, "", n); gsub(/-/, "_", n);
                                    mm=m; gsub(/-/, "_", mm); if (n == mm) { print $1; exit } }' "$MODDIR/modules.dep")
        if [ -z "$path" ]; then
            if grep -q "/${m//_/[-_]}\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; then
                log "module $m is built in"; continue
            fi
            die "module $m not found in $KVER"
        fi
        deps=$(grep "^$path:" "$MODDIR/modules.dep" | cut -d: -f2)
        local d list=()
        for d in $deps; do list=("$d" "${list[@]}"); done
        list+=("$path")
        for d in "${list[@]}"; do
            case $seen in *" $d "*) continue ;; esac
            seen="$seen$d "
            out+=("$d")
        done
    done
    printf '%s\n' "${out[@]}"
}

# -------------------------------------------------------- scenarios ------
# Each scenario sets: MODULES (loaded in order, with dependencies), QEMU_DEV
# (device arguments), PCI_OPTS (kernel pci= options), KEEP_NAMES (regex of memory region names
# whose memory_region_ops_* lines are kept, besides pci-conf-idx/-data),
# GUEST (shell fragment run by /init after the modules are loaded), DESC.
KEEP_NAMES=
PCI_OPTS=noearly
INJECT=
NET_DEV="-netdev user,id=n0,restrict=on"
NIC_GUEST='
IF=eth0
wait_carrier() {
    i=0
    while [ "$(cat /sys/class/net/$IF/carrier 2>/dev/null)" != 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    echo "carrier=$(cat /sys/class/net/$IF/carrier 2>/dev/null) after ${i}00ms"
}
mark nic-up
ip link set lo up
ip link set $IF up
wait_carrier
mark dhcp
udhcpc -i $IF -n -q -t 5 -T 2 -s /udhcpc.script || { echo "udhcpc failed, setting 10.0.2.15/24 by hand"; ip addr add 10.0.2.15/24 dev $IF; }
ip addr show dev $IF
mark ping
ping -c 2 -W 3 10.0.2.2
grep -i -e CPU0 -e eth -e e1000 -e igb /proc/interrupts || true
mark nic-down
ip link set $IF down
'
case $SCENARIO in
e1000e|e1000e-nomsi)
    DESC="e1000e driver: probe, link up, DHCP (busybox udhcpc) from QEMU user-net, ping 10.0.2.2 twice, link down"
    MODULES="e1000e"
    QEMU_DEV="-device e1000e,netdev=n0,romfile=,addr=02.0 $NET_DEV"
    [ "$SCENARIO" = e1000e-nomsi ] && PCI_OPTS="$PCI_OPTS,nomsi" && DESC="$DESC; pci=nomsi, so legacy INTx interrupts"
    KEEP_NAMES="e1000e.*|msix-table|msix-pba"
    GUEST=$NIC_GUEST
    ;;
igb)
    DESC="igb driver: probe, link up, DHCP (busybox udhcpc) from QEMU user-net, ping 10.0.2.2 twice, link down"
    MODULES="igb"
    QEMU_DEV="-device igb,netdev=n0,romfile=,addr=02.0 $NET_DEV"
    KEEP_NAMES="igb.*|msix-table|msix-pba"
    GUEST=$NIC_GUEST
    ;;
ps2)
    DESC="i8042 + atkbd (built in) and psmouse + evdev (modules): keys and mouse events injected through the QEMU monitor while the guest reads /dev/input/event*"
    MODULES="psmouse evdev"
    QEMU_DEV=""
    KEEP_NAMES="i8042.*"
    INJECT=1
    GUEST='
for e in /sys/class/input/event*; do echo "$(basename $e): $(cat $e/device/name)"; done
# dd writes every event (24 bytes on x86_64) as soon as it is read
for d in /dev/input/event*; do dd if=$d of=/tmp/$(basename $d).bin bs=24 2>/dev/null & done
sleep 1
mark inject
i=0
while [ $i -lt 300 ]; do
    [ -s /tmp/event0.bin ] && [ -s /tmp/event1.bin ] && break
    sleep 0.1; i=$((i+1))
done
sleep 6
mark inject-done
for f in /tmp/event*.bin; do
    echo "$f: $(($(wc -c < $f) / 24)) input events; type code value (hex) of the first 40 non-SYN ones:"
    hexdump -v -e "6/4 \"%08x \" \"\n\"" $f | awk "{print substr(\$5,5,4), substr(\$5,1,4), \$6}" | grep -v "^0000 " | head -n 40 | tr "\n" ";"; echo
done
grep -i -e i8042 /proc/interrupts || true
'
    ;;
ide)
    DESC="ata_piix: probe of an 8 MiB raw disk (primary master) and an empty ATAPI CD-ROM (secondary master); DMA reads and a DMA write with fsync; then libata reloaded with dma=0 and PIO reads and a PIO write"
    MODULES="ata_piix sd_mod sr_mod"
    QEMU_DEV="-drive file=@DISK@,format=raw,if=ide,index=0 -drive if=ide,index=2,media=cdrom"
    KEEP_NAMES="ide|piix-bmdma|bmdma"
    GUEST='
ls -l /sys/block/
cat /proc/partitions
for b in sda sr0; do [ -e /sys/block/$b/device/model ] && echo "$b: $(cat /sys/block/$b/device/vendor 2>/dev/null) $(cat /sys/block/$b/device/model)"; done
xfer_modes() { for d in /sys/class/ata_device/dev*; do echo "$(basename $d): xfer_mode $(cat $d/xfer_mode) (dma_mode $(cat $d/dma_mode), pio_mode $(cat $d/pio_mode))"; done; }
xfer_modes
mark dma-read
dd if=/dev/sda of=/dev/null bs=64k count=16
dd if=/dev/sda bs=512 count=1 2>/dev/null | hexdump -C | head -n 4
mark dma-write
echo "devfuzz dma write" | dd of=/dev/sda bs=512 seek=100 count=1 conv=sync,fsync
sync
mark cdrom-probe
dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>&1 || echo "sr0 read failed as expected (no medium)"
mark pio-reload
rmmod sr_mod sd_mod ata_piix libata 2>&1 || echo "rmmod failed"
insmod /lib/modules/libata.ko dma=0 && insmod /lib/modules/ata_piix.ko && insmod /lib/modules/sd_mod.ko && insmod /lib/modules/sr_mod.ko || echo "reload failed"
sleep 2
xfer_modes
mark pio-read
dd if=/dev/sda of=/dev/null bs=512 count=8
mark pio-write
echo "devfuzz pio write" | dd of=/dev/sda bs=512 seek=101 count=1 conv=sync,fsync
sync
'
    ;;
pci)
    DESC="PCI enumeration only: the kernel scans the bus (PIIX3/PIIX4, piix3-ide with a disk and an empty CD-ROM, an e1000e) and sizes BARs; no device drivers are loaded; /init reads every device config space through sysfs"
    MODULES=""
    QEMU_DEV="-drive file=@DISK@,format=raw,if=ide,index=0 -drive if=ide,index=2,media=cdrom -device e1000e,netdev=n0,romfile=,addr=02.0 $NET_DEV"
    KEEP_NAMES=""
    GUEST='
mark config-read
for d in /sys/bus/pci/devices/*; do echo "== $(basename $d) $(cat $d/vendor):$(cat $d/device) class $(cat $d/class)"; hexdump -C $d/config | head -n 4; done
'
    ;;
esac

# --------------------------------------------------------------- main ----
ensure_qemu
ensure_guest_bits
log "kernel $KVER ($KPKG), $QEMU_VERSION"

WORK=$CACHE/run/$SCENARIO
rm -rf "$WORK"
mkdir -p "$WORK/root"/{bin,dev,proc,sys,tmp,lib/modules}
R=$WORK/root
cp "$BUSYBOX" "$R/bin/busybox"

MODLIST=""
if [ -n "$MODULES" ]; then
    # shellcheck disable=SC2086
    MODLIST=$(module_closure $MODULES)
fi
for m in $MODLIST; do cp "$MODDIR/$m" "$R/lib/modules/"; done
printf '%s\n' $MODLIST | sed '/^$/d' > "$R/modules.order"

cat > "$R/udhcpc.script" <<'EOF'
#!/bin/sh
case "$1" in
    bound|renew) ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}"
                 [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface" 2>/dev/null
                 echo "udhcpc: $interface $ip/$subnet router $router" ;;
    deconfig)    ip addr flush dev "$interface" ;;
esac
exit 0
EOF
chmod +x "$R/udhcpc.script"

{
cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Phase markers: one line "@@ NAME" on the serial console.  The host side
# finds them in the raw trace (the serial port writes are traced too) and
# records where each phase starts in the notes file.
mark() { echo "@@ $1"; }
EOF
echo "echo \"devfuzz capture scenario $SCENARIO, kernel \$(uname -r)\""
cat <<'EOF'
mark modules
for m in $(cat /modules.order); do
    insmod /lib/modules/$(basename $m) || echo "insmod $m failed"
done
mdev -s 2>/dev/null
sleep 1
mark guest
EOF
printf '%s\n' "$GUEST"
cat <<'EOF'
mark done
dmesg | tail -n 15
echo "devfuzz capture done"
sync
poweroff -f
EOF
} > "$R/init"
chmod +x "$R/init"

( cd "$R" && find . | sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null ) | gzip -9 > "$WORK/initramfs.gz"

QDEV=$QEMU_DEV
if [[ $QDEV == *@DISK@* ]]; then
    # 8 MiB of a fixed, recognisable pattern: sector n starts with "devfuzz sector n"
    DISK=$WORK/disk.img
    awk 'BEGIN { for (s = 0; s < 16384; s++) { l = sprintf("devfuzz sector %d ", s); while (length(l) < 511) l = l "."; printf "%s\n", l } }' > "$DISK"
    QDEV=${QDEV//@DISK@/$DISK}
fi

RAW=$WORK/trace.raw.log
CONSOLE=$WORK/console.txt
MON=$WORK/monitor.sock
# Kernel command line:
#  - tsc=reliable: under TCG the kernel would otherwise distrust the TSC and
#    keep reading the HPET, which only adds noise to the raw trace.
#  - pci=noearly: TCG's default CPU (qemu64) says it is an AMD family 0Fh
#    part, so the kernel looks for an AMD GART/AGP aperture with two "poor
#    man's PCI discovery" scans (early_gart_iommu_check, gart_iommu_hole_init)
#    that read dword 0x08 of slot 0..31 on every bus 0..255: ~16,400 config
#    reads of empty slots, i.e. ~49,000 kept lines, 85% of every capture.
#    pci=noearly turns off these early type-1 scans (and the bus-0 early
#    quirks, none of which apply to QEMU's pc machine); the normal PCI
#    enumeration is unchanged.  CAPTURE_EARLY_SCAN=1 keeps them.
[ "${CAPTURE_EARLY_SCAN:-}" = 1 ] && PCI_OPTS=${PCI_OPTS#noearly} && PCI_OPTS=${PCI_OPTS#,}
APPEND="console=ttyS0 panic=-1 quiet tsc=reliable${PCI_OPTS:+ pci=$PCI_OPTS}${CAPTURE_APPEND:+ $CAPTURE_APPEND}"
QARGS=(-M pc -m 256 -nodefaults -display none -no-reboot -accel tcg
       -serial "file:$CONSOLE"
       -kernel "$VMLINUZ" -initrd "$WORK/initramfs.gz" -append "$APPEND"
       -trace 'memory_region_ops_*' -trace 'pci_cfg_*' -trace 'pci_update_mappings*'
       -D "$RAW" -msg timestamp=on)
# shellcheck disable=SC2206
QARGS+=($QDEV)
[ -n "$INJECT" ] && QARGS+=(-monitor "unix:$MON,server=on,wait=off")

log "booting (timeout ${TIMEOUT}s)"
START=$(date +%s)
set +e
timeout -k 10 "$TIMEOUT" "$QEMU" "${QARGS[@]}" &
QPID=$!
if [ -n "$INJECT" ]; then
    # Wait for the guest's "@@ inject" marker, then type and move the mouse
    # through the human monitor.
    python3 - "$MON" "$CONSOLE" <<'EOF' >&2 &
import socket, sys, time
mon, console = sys.argv[1], sys.argv[2]
deadline = time.time() + 400
while time.time() < deadline:
    try:
        if "@@ inject\n" in open(console, errors="replace").read():
            break
    except FileNotFoundError:
        pass
    time.sleep(0.5)
else:
    print("injector: guest never reached the inject phase"); sys.exit(1)
s = socket.socket(socket.AF_UNIX); s.connect(mon); s.settimeout(1)
def cmd(c):
    s.sendall((c + "\n").encode())
    time.sleep(0.4)
    try:
        s.recv(65536)
    except socket.timeout:
        pass
cmd("info status")
for k in ["a", "b", "shift-c", "ret"]:
    cmd("sendkey " + k)
for dx, dy in [(10, 10), (-5, 3), (0, -7)]:
    cmd("mouse_move %d %d" % (dx, dy))
cmd("mouse_button 1"); cmd("mouse_button 0")
cmd("mouse_move 0 0 1")
print("injector: sent 4 keys, 3 moves, 1 click, 1 wheel step")
EOF
    INJ=$!
fi
wait $QPID
QRC=$?
[ -n "$INJECT" ] && { wait "$INJ"; INJRC=$?; }
set -e
ELAPSED=$(( $(date +%s) - START ))
cp "$CONSOLE" "$CACHE/$SCENARIO.console.txt"
log "QEMU exit $QRC after ${ELAPSED}s; console in $CACHE/$SCENARIO.console.txt"
[ "$QRC" = 124 ] || [ "$QRC" = 137 ] && die "QEMU timed out after ${TIMEOUT}s (see $CACHE/$SCENARIO.console.txt)"
grep -q "devfuzz capture done" "$CONSOLE" || die "guest did not finish (see $CACHE/$SCENARIO.console.txt)"

# ------------------------------------------------------------ filter ------
KEEP_RE="pci-conf-idx|pci-conf-data"
[ -n "$KEEP_NAMES" ] && KEEP_RE="$KEEP_RE|$KEEP_NAMES"
STATS=$WORK/stats.txt
OUT=$OUTDIR/$SCENARIO.log.gz
# One pass: print kept lines; count lines per event/region; decode the guest's
# serial output (writes of 0x3f8) to find the "@@ NAME" phase markers.
awk -v keep="^($KEEP_RE)\$" -v stats="$STATS" '
function hex(s,   i, c, v) { s = tolower(s); sub(/^0x/, "", s); v = 0
    for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)); if (c == 0) break; v = v * 16 + c - 1 }
    return v }
BEGIN { kept = 0; raw = 0; line = "" }
!/^[0-9]+@[0-9]+\.[0-9]+:/ { other++; next }
{
    raw++
    ev = $0; sub(/^[^:]*:/, "", ev); sub(/ .*/, "", ev)
    if (ev ~ /^memory_region_ops_/) {
        n = index($0, " name '\''"); name = substr($0, n + 7); sub(/'\''$/, "", name)
        if (name == "serial" && ev == "memory_region_ops_write" && $0 ~ / addr 0x3f8 /) {
            v = $0; sub(/.* value /, "", v); sub(/ .*/, "", v); ch = hex(v)
            if (ch == 10) {
                if (line ~ /^@@ /) { ts = $1; sub(/:.*/, "", ts); sub(/^[0-9]+@/, "", ts)
                                     printf "marker\t%s\t%s\t%d\n", substr(line, 4), ts, kept + 1 > stats }
                line = ""
            } else if (ch >= 32 && ch < 127) line = line sprintf("%c", ch)
        }
        key = ev " " name
        if (name ~ keep) { kept++; keptc[key]++; print; next }
        dropc[key]++; next
    }
    if (ev ~ /^pci_cfg_/ || ev ~ /^pci_update_mappings/) { kept++; keptc[ev]++; print; next }
    dropc[ev]++
}
END {
    printf "raw\t%d\nkept\t%d\nnontrace\t%d\n", raw, kept, other > stats
    for (k in keptc) printf "keptc\t%s\t%d\n", k, keptc[k] > stats
    for (k in dropc) printf "dropc\t%s\t%d\n", k, dropc[k] > stats
}' "$RAW" | gzip -9n > "$OUT"

[ "${KEEP_RAW:-}" = 1 ] && gzip -9 -c "$RAW" > "$CACHE/$SCENARIO.raw.log.gz"
RAWLINES=$(awk -F'\t' '$1=="raw"{print $2}' "$STATS")
KEPT=$(awk -F'\t' '$1=="kept"{print $2}' "$STATS")
RAWBYTES=$(stat -c %s "$RAW")
GZBYTES=$(stat -c %s "$OUT")
log "raw $RAWLINES lines ($RAWBYTES bytes), kept $KEPT lines, $OUT is $GZBYTES bytes"
rm -f "$RAW"

# -------------------------------------------------------------- notes -----
qcmd() { local a out=""; for a in "$@"; do
    case $a in *[!A-Za-z0-9_./,=:@+-]*|'') out+=" '${a//\'/\'\\\'\'}'" ;; *) out+=" $a" ;; esac
  done; echo "${out# }"; }
SHOWARGS=("${QARGS[@]}")
for i in "${!SHOWARGS[@]}"; do
    SHOWARGS[$i]=${SHOWARGS[$i]//$CACHE/\$CACHE}
done
{
echo "# Capture: $SCENARIO"
echo
echo "$DESC."
echo
echo "- captured: $(date -u +%Y-%m-%dT%H:%MZ) by \`tests/conformance/capture/capture.sh $SCENARIO\`"
echo "- QEMU: $QEMU_VERSION, TCG, wall time ${ELAPSED}s"
echo "- guest kernel: $KVER (Debian package $KPKG), busybox $("$BUSYBOX" 2>&1 | head -n1 | awk '{print $2}') static"
echo "- kernel command line: \`$APPEND\`$([ "${CAPTURE_EARLY_SCAN:-}" = 1 ] || echo " (pci=noearly drops the kernel's AMD-GART all-bus scans; see capture.sh)")"
echo "- modules loaded (in order): $([ -n "$MODLIST" ] && printf '%s ' $MODLIST | sed 's#[^ ]*/##g; s/\.ko//g; s/ $//' || echo "none")"
echo "- raw trace: $RAWLINES trace lines ($RAWBYTES bytes); kept: $KEPT lines; \`$SCENARIO.log.gz\`: $GZBYTES bytes"
echo "- kept: every \`pci_cfg_*\` and \`pci_update_mappings_*\` line, and \`memory_region_ops_*\` lines whose region name matches \`^($KEEP_RE)\$\`"
echo
echo "## QEMU command line"
echo
echo "(\$CACHE is the download/run cache, ${CACHE/#$HOME/\~})"
echo
echo '```'
qcmd "$QEMU" "${SHOWARGS[@]}"
echo '```'
echo
echo "## Phases"
echo
echo "The guest prints \`@@ NAME\` on ttyS0 at the start of each phase; the serial"
echo "writes are in the raw trace, so each phase is placed in the kept log:"
echo
echo "| phase | host time | first kept line at or after |"
echo "| --- | --- | --- |"
awk -F'\t' '$1=="marker"{printf "| %s | %s | %d |\n", $2, $3, $4}' "$STATS"
echo
echo "## Lines per event and region"
echo
echo "| event / region | kept | dropped |"
echo "| --- | ---: | ---: |"
awk -F'\t' '$1=="keptc"{k[$2]+=$3; a[$2]=1} $1=="dropc"{d[$2]+=$3; a[$2]=1}
    END { for (x in a) printf "| %s | %d | %d |\n", x, k[x], d[x] }' "$STATS" | sort -t'|' -k3,3nr -k4,4nr
echo
echo "## Guest console (ttyS0)"
echo
echo '```'
tr -d '\r' < "$CONSOLE" | sed -e 's/[^[:print:]\t]//g' | tail -n 120
echo '```'
if [ -n "$INJECT" ]; then
    echo
    echo "Input injection: host python3 through the human monitor socket (exit $INJRC)."
fi
} > "$OUTDIR/$SCENARIO.md"
log "wrote $OUT and $OUTDIR/$SCENARIO.md"
