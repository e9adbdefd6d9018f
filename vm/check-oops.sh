#!/usr/bin/env bash
# The one recorded scenario that kills the kernel (kernel-abi §1.3): a non-blocking read() on a
# buffer fd with a DMABUF attached oopses 6.12 (NULL dereference in the DMA buffer's dequeue).
# Runs it in a boot of its own and passes only if the guest died of exactly that oops.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
"$here/run-guest.sh" --timeout 300 -- \
  "IIOJS_KERNEL=linux IIOJS_LAB_OOPS=1 node --test --test-name-pattern='^(raa_attach|raa_enable|read_nonblock_after_attach)\$' dist/test/conformance-iio.test.js" \
  >"$log" 2>&1
code=$?
if [[ $code -ne 0 ]] && grep -q 'BUG: kernel NULL pointer dereference' "$log" && grep -q 'iio_dma_buffer' "$log"; then
  echo "ok - read_nonblock_after_attach: the kernel oopsed in the DMA buffer code, as recorded"
  exit 0
fi
echo "not ok - read_nonblock_after_attach: expected the recorded oops (guest exit $code):"
tail -n 40 "$log"
exit 1
