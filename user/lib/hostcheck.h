/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What canaryd checks of its host before it makes anything: the kernel's BTF, without which no
 * CO-RE program loads, and IP forwarding on each interface whose forward program hands packets
 * for remote backends to the kernel's FIB (bpf_fib_lookup answers FWD_DISABLED per ingress
 * device, and the stack then drops what the program passed on). Read in the calling process's
 * network namespace.
 */
#ifndef XDP_CANARY_HOSTCHECK_H
#define XDP_CANARY_HOSTCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "config.h"

#define HOST_BTF_PATH	"/sys/kernel/btf/vmlinux"
#define HOST_SYSCTL_ROOT	"/proc/sys"

/*
 * Tests only: a path checked instead of HOST_BTF_PATH, so that a missing BTF can be shown on a
 * kernel that has it (tests/bats/start.bats). The loader itself always reads the real one.
 */
#define HOST_BTF_ENV	"CANARYD_TEST_BTF"

/* The addresses of the namespace's interfaces, in the 16-byte form (IPv4 mapped). */
struct host_addrs {
	__u8 (*addr)[16];
	unsigned int n;
};

/* The kernel's BTF is readable at @path; otherwise -ENOENT and why in @err. */
int host_btf_check(const char *path, char *err, size_t errlen);

/* HOST_BTF_PATH, or what HOST_BTF_ENV says. */
const char *host_btf_path(void);

/* Fills @a from getifaddrs(); host_addrs_free() it. Returns 0 or a negative errno. */
int host_addrs_local(struct host_addrs *a, char *err, size_t errlen);
void host_addrs_free(struct host_addrs *a);

/*
 * The backends of @cfg's services of one family (@v4) whose address is not in @local: returns
 * whether there is one, and lists the first few in @list ("192.0.2.10:8080, 192.0.2.70:8080",
 * then " and others").
 */
bool backends_remote(const struct canary_config *cfg, const struct host_addrs *local, bool v4,
		     char *list, size_t len);

/* "net.ipv4.conf.s0.forwarding"; a dot in @ifname is a slash there (eth0.100 is eth0/100). */
const char *forwarding_sysctl(const char *ifname, bool v4, char *buf, size_t len);

/*
 * With remote backends of a family, forwarding of that family must be on at each interface the
 * forward program runs on. Reads SYSCTL_ROOT/net/ipv{4,6}/conf/IFACE/forwarding (@sysctl_root is
 * HOST_SYSCTL_ROOT but in tests). Returns 0, or -EHOSTUNREACH and in @err the interface, the
 * sysctl, the backends and the command that fixes it; another negative errno if it cannot tell.
 */
int host_forwarding_check(const struct canary_config *cfg, const struct host_addrs *local,
			  const char *sysctl_root, char *err, size_t errlen);

/* host_forwarding_check() with this namespace's addresses and sysctls. */
int host_forwarding_check_here(const struct canary_config *cfg, char *err, size_t errlen);

#endif /* XDP_CANARY_HOSTCHECK_H */
