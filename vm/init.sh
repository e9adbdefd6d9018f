#!/bin/busybox sh
# The guest's /init: mount the kernel's filesystems, share the host's root read-only (9p), then
# run the command named on the kernel command line (iiojs.cmd=<script on the host>) chrooted into
# the host's root, so Node and the repository come from the host. Scratch space is a tmpfs at
# /dev/shm (TMPDIR): the host's /tmp stays visible, as the repository may live there.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose hostroot /host || { echo "IIOJS_EXIT=98"; reboot -f; }
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mkdir -p /host/dev/shm
mount -t tmpfs shm /host/dev/shm
mount -t configfs configfs /host/sys/kernel/config
mount -t debugfs debugfs /host/sys/kernel/debug
# Loopback up: the iiod tests serve and connect on 127.0.0.1.
ip link set lo up
cmd="$(sed -n 's/.*iiojs\.cmd=\([^ ]*\).*/\1/p' /proc/cmdline)"
chroot /host /bin/sh -c "$cmd"
code=$?
if [ "$code" != 0 ]; then echo "---- kernel log ----"; dmesg | tail -n 80; fi
echo "IIOJS_EXIT=$code"
reboot -f
