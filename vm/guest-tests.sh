#!/bin/sh
# The real-kernel tier, run inside the lab guest (vm/run-guest.sh) from the repository root:
# the Linux port's own tests, the conformance suites written for the sim (unchanged, on the real
# kernel now), and libiio's tools on the same devices. Files run one at a time: they share the
# one kernel and its devices.
#   sh vm/guest-tests.sh       the IIO, DMABUF and libiio tier (a 1-vCPU boot: docs/lab.md says why)
#   sh vm/guest-tests.sh usb   the USB tier (2 vCPUs; run with dummy_hcd.sg=1 and again with sg=0)
set -e
export IIOJS_KERNEL=linux
if [ "${1:-}" = usb ]; then
  exec node --test --test-concurrency=1 dist/test/conformance-usb.test.js dist/test/lab/usb-*.test.js
fi
lab=""
for f in dist/test/lab/*.test.js; do
  case "$f" in dist/test/lab/usb-*) ;; *) lab="$lab $f" ;; esac
done
node --test --test-concurrency=1 \
  dist/test/kernel-linux.test.js \
  dist/test/addon-fuzz.test.js \
  dist/test/conformance-dmabuf.test.js \
  dist/test/conformance-iio.test.js \
  dist/test/library-dmabuf.test.js \
  dist/test/library-stream.test.js \
  dist/test/library-probe.test.js \
  dist/test/library-attrs.test.js \
  dist/test/library-naming.test.js \
  $lab
