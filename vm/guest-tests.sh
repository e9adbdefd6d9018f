#!/bin/sh
# The real-kernel tier, run inside the lab guest (vm/run-guest.sh) from the repository root:
# the Linux port's own tests, the conformance suites written for the sim (unchanged, on the real
# kernel now), and libiio's tools on the same devices. Files run one at a time: they share the
# one kernel and its devices.
#   sh vm/guest-tests.sh       everything (a boot with dummy_hcd's default, sg=1)
#   sh vm/guest-tests.sh usb   the USB files only, for a second boot with dummy_hcd.sg=0
set -e
export IIOJS_KERNEL=linux
usb="dist/test/conformance-usb.test.js dist/test/lab/usb-*.test.js"
if [ "${1:-}" = usb ]; then
  exec node --test --test-concurrency=1 $usb
fi
node --test --test-concurrency=1 \
  dist/test/kernel-linux.test.js \
  dist/test/addon-fuzz.test.js \
  dist/test/conformance-dmabuf.test.js \
  dist/test/conformance-iio.test.js \
  dist/test/conformance-usb.test.js \
  dist/test/library-dmabuf.test.js \
  dist/test/library-stream.test.js \
  dist/test/library-probe.test.js \
  dist/test/library-attrs.test.js \
  dist/test/library-naming.test.js \
  dist/test/lab/*.test.js
