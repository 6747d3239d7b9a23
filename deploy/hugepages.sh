#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Reserve N 2 MiB hugepages and make sure a hugetlbfs of that page size is
# mounted, for DPDK. Idempotent: run it any number of times (tcpa.service
# runs it before every start).
#
#   hugepages.sh [N]
#
# N: argument, else $TCPA_HUGEPAGES, else 1024 (2 GiB). A reservation that is
# already N or more is left alone (other DPDK programs may use the pages);
# a smaller one is raised to N. With TCPA_HUGEPAGES_NODE=K the pages are
# reserved on NUMA node K only (put them on the NIC's node). The mount point
# of a missing hugetlbfs is $TCPA_HUGE_DIR, else /dev/hugepages.
#
# Exit status: 0 when N pages are reserved and a hugetlbfs is mounted; 1 when
# the kernel could not find N free 2 MiB pages (memory fragmented: reserve
# them at boot, kernel command line "hugepagesz=2M hugepages=N") or on any
# other error, with a message on stderr.
set -eu

prog=hugepages.sh
n=${1:-${TCPA_HUGEPAGES:-1024}}
node=${TCPA_HUGEPAGES_NODE:-}
mnt=${TCPA_HUGE_DIR:-/dev/hugepages}
sysfs=${TCPA_HUGE_SYSFS:-/sys}          # a fake tree for tests

die() {
    echo "$prog: $*" >&2
    exit 1
}

case $n in
    '' | *[!0-9]*) die "number of hugepages must be a non-negative integer, got '$n'" ;;
esac
if [ -n "$node" ]; then
    case $node in
        *[!0-9]*) die "TCPA_HUGEPAGES_NODE must be a NUMA node number, got '$node'" ;;
    esac
    dir=$sysfs/devices/system/node/node$node/hugepages/hugepages-2048kB
    where="on NUMA node $node"
else
    dir=$sysfs/kernel/mm/hugepages/hugepages-2048kB
    where="in total"
fi
[ -d "$dir" ] || die "$dir missing: no 2 MiB hugepages on this kernel/node"

have=$(cat "$dir/nr_hugepages")
if [ "$have" -lt "$n" ]; then
    # Compacting first gives the kernel a better chance to find 2 MiB pages.
    if [ "$sysfs" = /sys ] && [ -w /proc/sys/vm/compact_memory ]; then
        echo 1 >/proc/sys/vm/compact_memory 2>/dev/null || true
    fi
    echo "$n" >"$dir/nr_hugepages" || die "cannot write $dir/nr_hugepages (run as root)"
    have=$(cat "$dir/nr_hugepages")
    if [ "$have" -lt "$n" ]; then
        die "asked for $n 2 MiB hugepages $where, the kernel found $have (memory" \
            "fragmented): reserve them at boot with 'hugepagesz=2M hugepages=$n'" \
            "on the kernel command line, or ask for fewer"
    fi
    echo "$prog: reserved $have 2 MiB hugepages $where"
else
    echo "$prog: $have 2 MiB hugepages $where already reserved (wanted $n)"
fi

# A hugetlbfs whose page size is 2 MiB: explicit pagesize=2M, or the
# default size when it is 2 MiB (then the mount shows no pagesize option).
default_2m=no
grep -q '^Hugepagesize: *2048 kB' /proc/meminfo 2>/dev/null && default_2m=yes
mounted=$(awk -v d="$default_2m" '$3 == "hugetlbfs" {
        if ($4 ~ /(^|,)pagesize=2M(,|$)/ || ($4 !~ /pagesize=/ && d == "yes")) { print $2; exit }
    }' /proc/mounts)
if [ -n "$mounted" ]; then
    echo "$prog: hugetlbfs (2 MiB pages) mounted on $mounted"
    exit 0
fi
mkdir -p "$mnt" || die "cannot create $mnt"
mount -t hugetlbfs -o pagesize=2M nodev "$mnt" || die "cannot mount hugetlbfs on $mnt"
echo "$prog: mounted hugetlbfs (2 MiB pages) on $mnt"
