#!/usr/bin/env bash
# Runs a command inside the lab kernel under QEMU (TCG) and exits with its exit code.
#   vm/run-guest.sh [--timeout SECONDS] [--cpus N] [--append 'KERNEL ARGS'] -- <shell command run
#                   in the guest, in the repository>
# --append adds kernel command-line arguments (e.g. dummy_hcd.sg=0); it may be given more than once.
# The guest has 2 vCPUs by default (the USB tests run a gadget side and a host side in it at once),
# as sockets: without ACPI the kernel finds CPUs in SeaBIOS's MP table, which lists one per package.
# The guest sees the host's root read-only (Node, the repository, the built module) with its
# own /proc, /sys, /dev and a scratch tmpfs (TMPDIR=/dev/shm). It boots with oops=panic
# panic=-1, so an oops ends the run (the guest reboots, which ends QEMU with -no-reboot;
# tinyconfig has no ACPI power-off), and prints the kernel log when the command fails.
# Builds the kernel (vm/build-kernel.sh) and the test module on demand; both are cached.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
timeout=600
cpus=2
append=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --timeout) timeout="$2"; shift 2 ;;
    --cpus) cpus="$2"; shift 2 ;;
    --append) append="$append $2"; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || { echo "usage: vm/run-guest.sh [--timeout S] [--cpus N] [--append ARGS] -- <command>" >&2; exit 2; }

kernel="$("$here/build-kernel.sh")"
cache="$(dirname "$kernel")"

# The test module, built against this kernel (out of tree, outside the repository), cached by
# the hash of its source: worktrees with different versions of it share the cache.
module_key="$(cat "$here/module/iio_vadc_dma.c" "$here/module/Makefile" | sha256sum | cut -c1-12)"
module_dir="$kernel-module-$module_key"
if [[ ! -f "$module_dir/iio_vadc_dma.ko" ]]; then
  rm -rf "$module_dir" && mkdir -p "$module_dir"
  cp "$here/module/iio_vadc_dma.c" "$here/module/Makefile" "$module_dir/"
  make -s -C "$kernel" M="$module_dir" modules >&2
fi

# busybox initramfs, rebuilt when init.sh changes.
initrd="$cache/initramfs-$(sha256sum "$here/init.sh" | cut -c1-12).cpio.gz"
if [[ ! -f "$initrd" ]]; then
  root="$(mktemp -d)"
  mkdir -p "$root"/{bin,dev,proc,sys,tmp}
  cp /bin/busybox "$root/bin/busybox"
  install -m 755 "$here/init.sh" "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$initrd"
  rm -rf "$root"
fi

# The command, as a script on the host that the guest runs from the shared root.
run_dir="$(mktemp -d /var/tmp/iiojs-guest.XXXXXX)"
trap 'rm -rf "$run_dir"' EXIT
cat >"$run_dir/cmd.sh" <<SCRIPT
#!/bin/sh
export IIOJS_VM_MODULE="$module_dir/iio_vadc_dma.ko" HOME=/dev/shm TMPDIR=/dev/shm PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
cd "$repo"
$*
SCRIPT
chmod +x "$run_dir/cmd.sh"

log="$run_dir/console.log"
set +e
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu max -m 2048 -smp "$cpus,sockets=$cpus,cores=1,threads=1" -nographic -no-reboot \
  -kernel "$kernel/arch/x86/boot/bzImage" -initrd "$initrd" \
  -append "console=ttyS0 quiet loglevel=4 oops=panic panic=-1 rdinit=/init iiojs.cmd=$run_dir/cmd.sh$append" \
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
  -nic none </dev/null | tee "$log" | grep -v 'IIOJS_EXIT='
qemu=${PIPESTATUS[0]}
set -e
code="$(sed -n 's/.*IIOJS_EXIT=\([0-9]*\).*/\1/p' "$log" | tail -1)"
if [[ -z "$code" ]]; then
  echo "vm: the guest ended without an exit code (qemu exit $qemu: timeout after ${timeout}s, oops or panic)" >&2
  exit 1
fi
exit "$code"
