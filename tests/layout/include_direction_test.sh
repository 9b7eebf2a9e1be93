#!/usr/bin/env bash
# Fails when an #include points the wrong way: protocol <- index <- segment <- broker, and the
# client libraries (producer, consumer, admin) depend on protocol only.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
status=0
check() {  # check LIBRARY FORBIDDEN...
  local lib=$1; shift
  [ -d "$root/$lib" ] || return 0
  for bad in "$@"; do
    if hits=$(grep -rnE "#include \"$bad/" "$root/$lib" --include='*.h' --include='*.cc'); then
      echo "$lib/ must not include $bad/:"; echo "$hits"; status=1
    fi
  done
}
check protocol index segment broker producer consumer admin
check index segment broker producer consumer admin
check segment broker producer consumer admin
for client in producer consumer admin; do check "$client" index segment broker; done
# liburing stays behind the I/O seam.
if hits=$(grep -rln "liburing" "$root"/{protocol,index,segment,broker} --include='*.h' --include='*.cc' 2>/dev/null | grep -v "/segment/io/"); then
  echo "only segment/io/ may include liburing:"; echo "$hits"; status=1
fi
[ $status -eq 0 ] && echo "include direction ok"
exit $status
