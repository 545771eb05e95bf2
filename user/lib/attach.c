// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "canary_bpf.skel.h"


static int attach_slot(struct canary_dp *dp, char *err, size_t errlen)
{
	if (dp->nattached < CANARY_MAX_ATTACH)
		return 0;
	snprintf(err, errlen, "more than %d attachments", CANARY_MAX_ATTACH);
	return -ENOSPC;
}

static const char *ifname_of(unsigned int ifindex, char *buf)
{
	return if_indextoname(ifindex, buf) ? buf : "?";
}

int canary_attach_xdp(struct canary_dp *dp, unsigned int ifindex, enum canary_xdp_mode *mode,
		      char *err, size_t errlen)
{
	int prog_fd = bpf_program__fd(dp->skel->progs.xdp_canary_fwd), fd, ret;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[IF_NAMESIZE];

	ret = attach_slot(dp, err, errlen);
	if (ret)
		return ret;
	/* With no mode flag, the kernel takes the driver's XDP and falls back to generic. */
	fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, NULL);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "attach xdp to %s: %s", ifname_of(ifindex, name),
			 strerror(errno));
		return ret;
	}
	ret = bpf_xdp_query(ifindex, 0, &q);
	*mode = !ret && q.attach_mode == XDP_ATTACHED_SKB ? CANARY_XDP_GENERIC : CANARY_XDP_NATIVE;
	dp->attached[dp->nattached++] = (struct canary_attach){ .ifindex = ifindex,
							       .link_fd = fd };
	return 0;
}

static int attach_clsact(struct canary_dp *dp, unsigned int ifindex, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CLSACT_HANDLE, .priority = CLSACT_PRIORITY,
		    .prog_fd = bpf_program__fd(dp->skel->progs.tc_canary_reply));
	char name[IF_NAMESIZE];
	int ret;

	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST) {
		snprintf(err, errlen, "create clsact qdisc on %s: %s", ifname_of(ifindex, name),
			 strerror(-ret));
		return ret;
	}
	ret = bpf_tc_attach(&hook, &opts);
	if (ret) {
		snprintf(err, errlen, "attach tc egress filter to %s: %s",
			 ifname_of(ifindex, name), strerror(-ret));
		return ret;
	}
	dp->attached[dp->nattached++] = (struct canary_attach){
		.ifindex = ifindex, .link_fd = -1, .tc_handle = CLSACT_HANDLE,
		.tc_priority = CLSACT_PRIORITY };
	return 0;
}

int canary_attach_tc(struct canary_dp *dp, unsigned int ifindex, enum canary_tc_mode *mode,
		     char *err, size_t errlen)
{
	int prog_fd = bpf_program__fd(dp->skel->progs.tc_canary_reply), fd, ret;

	ret = attach_slot(dp, err, errlen);
	if (ret)
		return ret;
	fd = *mode == CANARY_TC_CLSACT ? -1 :
	     bpf_link_create(prog_fd, ifindex, CANARY_BPF_TCX_EGRESS, NULL);
	if (fd >= 0) {
		*mode = CANARY_TC_TCX;
		dp->attached[dp->nattached++] = (struct canary_attach){ .ifindex = ifindex,
								       .link_fd = fd };
		return 0;
	}
	/* Kernels before 6.6 know no TCX: EINVAL for the attach type. */
	*mode = CANARY_TC_CLSACT;
	return attach_clsact(dp, ifindex, err, errlen);
}

void canary_dp_detach_all(struct canary_dp *dp)
{
	for (int i = 0; i < dp->nattached; i++) {
		struct canary_attach *a = &dp->attached[i];
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex,
			    .attach_point = BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = a->tc_handle,
			    .priority = a->tc_priority);

		if (a->link_fd >= 0)
			close(a->link_fd);	/* a link goes with its last reference */
		else
			bpf_tc_detach(&hook, &opts);
	}
	dp->nattached = 0;
}

const char *canary_xdp_mode_name(enum canary_xdp_mode mode)
{
	return mode == CANARY_XDP_GENERIC ? "generic" : "native";
}

const char *canary_tc_mode_name(enum canary_tc_mode mode)
{
	return mode == CANARY_TC_TCX ? "tcx" : "clsact";
}
