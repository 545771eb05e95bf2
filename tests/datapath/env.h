/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath tests' world: a network namespace of the test's own (gone when the process
 * exits), where FIB lookups give known answers, and a freshly loaded datapath per test.
 *
 *   xc0 02:00:00:00:00:01  198.51.100.1/24  2001:db8:1::1/64  clients arrive here
 *       neighbour 198.51.100.50 / 2001:db8:1::50 = MAC_ONLINK    (backend on the client side)
 *       neighbour 198.51.100.7 / 2001:db8:1::7 = MAC_CLIENT       (a client, for replies)
 *   xc2 02:00:00:00:00:02  192.0.2.1/24     2001:db8:2::1/64  backend subnet
 *       neighbours 192.0.2.10-29 / 2001:db8:2::10-29 = 02:00:00:00:be:NN
 *   lo  203.0.113.1, 2001:db8:3::1                            local backend
 *   unreachable 10.255.0.0/16, 2001:db8:ff::/48               FIB failure
 *   192.0.2.99, 2001:db8:2::99 have no neighbour entry
 */
#ifndef XDP_CANARY_TEST_ENV_H
#define XDP_CANARY_TEST_ENV_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/types.h>

#include "canary_abi.h"
#include "dp.h"
#include "pktgen.h"
#include "svc.h"

#define MAC_XC0		{ 0x02, 0, 0, 0, 0, 0x01 }
#define MAC_XC2		{ 0x02, 0, 0, 0, 0, 0x02 }
#define MAC_ONLINK	{ 0x02, 0, 0, 0, 0xbe, 0x50 }
#define MAC_CLIENT	{ 0x02, 0, 0, 0, 0xc1, 0x07 }
#define TEST_FLOWS	262144

struct dp_env {
	struct canary_dp dp;
	bool tc;		/* DP_HOOK=tc: packets go through tc_canary_fwd, not XDP */
	int prog_fd;
	__u32 if_client;	/* xc0 */
	__u32 if_backend;	/* xc2 */
};

struct test_svc {
	struct svc_key key;
	__u32 id;
	struct svc_state st;
};

#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#define TC_ACT_REDIRECT	7

/* Whether this run tests the TC ingress hook (DP_HOOK=tc), not XDP. */
bool env_hook_is_tc(void);

/* Once per process: a private network namespace, configured as above. */
int env_netns_setup(void);

/* cmocka setup/teardown: a freshly loaded, unpinned datapath in *state. */
int env_setup(void **state);

/* Loads a datapath with @opts (NULL: the tests' defaults) into @env. */
int env_open(struct dp_env *env, const struct canary_dp_opts *opts);
int env_teardown(void **state);

/* Loads @env's datapath again, with a flow table of @entries. */
void env_reload_table(struct dp_env *env, __u32 entries);

/* The entries in flows. */
unsigned int env_flows_count(struct dp_env *env);

/* Runs one packet through the XDP program as if it came in on xc0; returns the verdict. */
__u32 env_run(struct dp_env *env, const __u8 *in, size_t len, __u8 *out, __u32 *out_len);

/* The same, coming in on @ifindex. */
__u32 env_run_from(struct dp_env *env, __u32 ifindex, const __u8 *in, size_t len, __u8 *out,
		   __u32 *out_len);

/*
 * env_run_from without cmocka: 0 or the run's error, for a thread other than the test's own
 * (a cmocka assert there would take the whole binary down instead of failing one test).
 */
int env_try_run_from(struct dp_env *env, __u32 ifindex, const __u8 *in, size_t len, __u8 *out,
		     __u32 *out_len, __u32 *retval);

/* Runs one packet through the TC egress program; returns its verdict. */
__u32 env_run_tc(struct dp_env *env, const __u8 *in, size_t len, __u8 *out, __u32 *out_len);

/* Declares a service and publishes it; the pools stay as they are. */
void env_svc(struct dp_env *env, struct test_svc *svc, const char *vip, __u16 port, __u8 proto,
	     __u32 id, __u16 weight);

/* Publishes svc->st again, after a test changed it. */
void env_svc_update(struct dp_env *env, const struct test_svc *svc);

/* Publishes @n backends "ADDR" at @port as @version's pool of svc->val.id. */
void env_pool(struct dp_env *env, const struct test_svc *svc, __u8 version,
	      const char *const *addrs, unsigned int n, __u16 port);

/* Backend address "192.0.2.NN" or "2001:db8:2::NN" for NN in 10..29, in @buf. */
const char *env_backend_addr(char *buf, size_t len, bool v4, unsigned int nn);

/* The version and backend a client flow was sent to, read back from the rewritten packet. */
struct verdict {
	__u32 action;
	__u8 daddr[16];
	__u16 dport;
};

struct verdict env_send(struct dp_env *env, const struct pkt_spec *s);

/* env_send without cmocka: 0, or the run's error, or -EMSGSIZE if the length changed. */
int env_try_send(struct dp_env *env, const struct pkt_spec *s, struct verdict *v);

#endif /* XDP_CANARY_TEST_ENV_H */
