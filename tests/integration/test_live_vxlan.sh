#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The live path on a VXLAN mirror: test_live_afpacket.sh with the peers on
# a Linux vxlan device (VNI 4242) over the veth tcpa listens on.
set -euo pipefail
VXLAN=4242 exec "$(dirname "$0")/test_live_afpacket.sh" "$@"
