// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The interfaces of the config, made so in the kernel: on each, the forward program (XDP, or TC
 * ingress where XDP cannot serve), the local-reply program at TC egress, the redirect target and
 * what the forward program knows of the interface (if_cfg). What the config no longer names is
 * detached.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>

#include "canaryd.h"
#include "iface.h"
#include "links.h"
#include "svc.h"

static struct ifname_set *clsact_set(struct canaryd *d, enum canary_tc_dir dir)
{
	return dir == CANARY_TC_INGRESS ? &d->state->clsact_in : &d->state->clsact;
}

static bool ifname_in(const struct ifname_set *set, const char *ifname)
{
	for (unsigned int i = 0; i < set->n; i++)
		if (!strcmp(set->name[i], ifname))
			return true;
	return false;
}

/* Records whether @ifname has our clsact filter at @dir; returns whether it had one before. */
static bool clsact_side_note(struct canaryd *d, const char *ifname, enum canary_tc_dir dir,
			     bool on)
{
	struct ifname_set *set = clsact_set(d, dir);

	for (unsigned int i = 0; i < set->n; i++) {
		if (strcmp(set->name[i], ifname))
			continue;
		if (!on)
			memcpy(set->name[i], set->name[--set->n], IF_NAMESIZE);
		return true;
	}
	if (on && set->n < CFG_MAX_IFACES)
		snprintf(set->name[set->n++], IF_NAMESIZE, "%s", ifname);
	return false;
}

bool clsact_note(struct canaryd *d, const char *ifname, bool on)
{
	bool had = clsact_side_note(d, ifname, CANARY_TC_INGRESS, on);

	return clsact_side_note(d, ifname, CANARY_TC_EGRESS, on) || had;
}

static const struct cfg_iface *cfg_iface_of(const struct canary_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->nifaces; i++)
		if (!strcmp(cfg->ifaces[i].name, name))
			return &cfg->ifaces[i];
	return NULL;
}

static int xdp_apply(struct canaryd *d, const struct cfg_iface *ifc, struct iface_rt *rt,
		     char *err, size_t errlen)
{
	static const enum canary_xdp_want want[] = {
		[CFG_XDP_AUTO] = CANARY_XDP_WANT_AUTO,
		[CFG_XDP_NATIVE] = CANARY_XDP_WANT_NATIVE,
		[CFG_XDP_GENERIC] = CANARY_XDP_WANT_GENERIC,
	};
	struct link_result res;
	int ret;

	ret = link_xdp_ensure(&d->dp, ifc->name, want[ifc->xdp], &res, err, errlen);
	if (ret)
		return ret;
	if (!res.reused)
		made_link(d, "xdp", ifc->name);
	if (res.fell_back)
		log_warn("%s: the driver has no native XDP; running in generic mode (slower, "
			 "same behaviour)", ifc->name);
	log_info("%s: xdp %s (%s)", ifc->name, canary_xdp_mode_name(res.xdp_mode),
		 res.reused ? "kept attached; program swapped in place" : "attached");
	rt->xdp = true;
	rt->xdp_mode = res.xdp_mode;
	return 0;
}

/* A TC program on @ifc: the forward one at ingress, the local-reply one at egress. */
static int tc_side_apply(struct canaryd *d, const struct cfg_iface *ifc, enum canary_tc_dir dir,
			 enum canary_tc_mode *mode, char *err, size_t errlen)
{
	struct link_result res;
	int ret;

	ret = link_tc_ensure(&d->dp, ifc->name, dir, ifc->tc == CFG_TC_CLSACT ? CANARY_TC_CLSACT :
								       CANARY_TC_TCX,
			     &res, err, errlen);
	if (res.made_qdisc)	/* also when the filter then failed */
		made_qdisc(d, ifc->name);
	if (ret)
		return ret;
	if (!res.reused && res.tc_mode == CANARY_TC_TCX)
		made_link(d, link_tc_kind(dir), ifc->name);
	else if (!res.reused)
		made_filter(d, ifc->name);
	clsact_side_note(d, ifc->name, dir, res.tc_mode == CANARY_TC_CLSACT);
	*mode = res.tc_mode;
	log_info("%s: tc %s %s (%s%s)", ifc->name, dir == CANARY_TC_INGRESS ? "ingress" : "egress",
		 canary_tc_mode_name(res.tc_mode),
		 res.reused ? "kept attached; program swapped in place" : "attached",
		 res.fell_back ? "; this kernel has no TCX, which came in Linux 6.6" : "");
	return 0;
}

/* Takes the TC program of @dir off @ifc, if it is there. */
static int tc_side_off(struct canaryd *d, const struct cfg_iface *ifc, enum canary_tc_dir dir,
		       char *err, size_t errlen)
{
	int ret = link_unpin(d->cfg.pin_dir, link_tc_kind(dir), ifc->name, err, errlen);

	/*
	 * Only a filter the state says is ours: asking the kernel for one that is not there makes
	 * libbpf print a netlink error at every start and reload.
	 */
	if (!ret && ifname_in(clsact_set(d, dir), ifc->name))
		ret = clsact_remove(ifc->name, CANARY_TC_DIR_BIT(dir), err, errlen);
	if (!ret)
		clsact_side_note(d, ifc->name, dir, false);
	return ret;
}

/* Where the forward program runs on @ifc: "auto" picks TC on veth, XDP elsewhere. */
static enum cfg_hook hook_of(const struct cfg_iface *ifc)
{
	if (ifc->hook != CFG_HOOK_AUTO)
		return ifc->hook;
	return iface_is_veth(ifc->name) ? CFG_HOOK_TC : CFG_HOOK_XDP;
}

/*
 * The forward program on @ifc, at the hook the config asks for; with "auto", an XDP attach the
 * interface's MTU refuses (a driver without multi-buffer XDP) falls back to TC.
 */
static int fwd_apply(struct canaryd *d, const struct cfg_iface *ifc, struct iface_rt *rt,
		     char *err, size_t errlen)
{
	enum cfg_hook hook = hook_of(ifc);
	int ret;

	if (ifc->xdp == CFG_XDP_OFF) {
		ret = link_unpin(d->cfg.pin_dir, "xdp", ifc->name, err, errlen);
		return ret ? ret : tc_side_off(d, ifc, CANARY_TC_INGRESS, err, errlen);
	}
	if (hook == CFG_HOOK_XDP) {
		ret = xdp_apply(d, ifc, rt, err, errlen);
		if (ret != -ERANGE || ifc->hook != CFG_HOOK_AUTO)
			return ret ? ret : tc_side_off(d, ifc, CANARY_TC_INGRESS, err, errlen);
		log_warn("%s: %s; the forward program runs at TC ingress instead", ifc->name, err);
		hook = CFG_HOOK_TC;
	}
	ret = tc_side_apply(d, ifc, CANARY_TC_INGRESS, &rt->tc_in_mode, err, errlen);
	if (ret)
		return ret;
	rt->tc_in = true;
	return link_unpin(d->cfg.pin_dir, "xdp", ifc->name, err, errlen);
}

/* What the forward program knows of @ifc: its MAC (frames to others are not split). */
static int if_cfg_apply(struct canaryd *d, const struct cfg_iface *ifc, char *err, size_t errlen)
{
	struct if_cfg ic = { .flags = ifc->drop_other_host ? CANARY_IF_F_DROP_OTHER_HOST : 0 };
	int ret = iface_mac(ifc->name, ic.mac, err, errlen);

	if (ret)
		return ret;
	ret = if_cfg_put(&d->dp, if_nametoindex(ifc->name), &ic);
	if (ret)
		snprintf(err, errlen, "%s: describe to the datapath: %s", ifc->name,
			 strerror(-ret));
	return ret;
}

static int iface_apply(struct canaryd *d, const struct cfg_iface *ifc, struct iface_rt *rt,
		       char *err, size_t errlen)
{
	int ret;

	snprintf(rt->name, sizeof(rt->name), "%s", ifc->name);
	ret = tx_port_add(&d->dp, if_nametoindex(ifc->name));
	if (ret) {
		snprintf(err, errlen, "%s: add to redirect targets: %s", ifc->name,
			 strerror(-ret));
		return ret;
	}
	ret = if_cfg_apply(d, ifc, err, errlen);
	if (!ret)
		ret = fwd_apply(d, ifc, rt, err, errlen);
	if (!ret && ifc->tc != CFG_TC_OFF) {
		ret = tc_side_apply(d, ifc, CANARY_TC_EGRESS, &rt->tc_mode, err, errlen);
		rt->tc = !ret;
	} else if (!ret) {
		ret = tc_side_off(d, ifc, CANARY_TC_EGRESS, err, errlen);
	}
	return ret;
}

static int stale_link_remove(const char *ifname, const char *kind, void *ctx)
{
	struct canaryd *d = ctx;
	char err[256] = "";

	if (cfg_iface_of(&d->cfg, ifname))
		return 0;
	if (link_unpin(d->cfg.pin_dir, kind, ifname, err, sizeof(err)))
		log_warn("%s", err);
	else
		log_info("%s: %s detached (not in the config)", ifname, kind);
	return 0;
}

static bool iface_wanted(__u32 ifindex, void *ctx)
{
	struct canaryd *d = ctx;
	char name[IF_NAMESIZE];

	return if_indextoname(ifindex, name) && cfg_iface_of(&d->cfg, name);
}

/* Removes our clsact filters at @dir from interfaces the config no longer names. */
static void clsact_prune(struct canaryd *d, enum canary_tc_dir dir, char *err, size_t errlen)
{
	struct ifname_set *set = clsact_set(d, dir);

	for (unsigned int i = 0; i < set->n;) {
		const char *name = set->name[i];

		if (cfg_iface_of(&d->cfg, name)) {
			i++;
			continue;
		}
		if (clsact_remove(name, CANARY_TC_DIR_BIT(dir), err, errlen))
			log_warn("%s", err);
		clsact_side_note(d, name, dir, false);
	}
}

/* Detaches what is ours on interfaces the config no longer names. */
static int ifaces_prune(struct canaryd *d, char *err, size_t errlen)
{
	int ret = links_for_each(d->cfg.pin_dir, stale_link_remove, d);

	if (ret)
		log_warn("list pinned links under %s: %s", d->cfg.pin_dir, strerror(-ret));
	for (unsigned int dir = 0; dir < CANARY_TC_DIRS; dir++)
		clsact_prune(d, dir, err, errlen);
	ret = tx_port_prune(&d->dp, iface_wanted, d);
	if (!ret)
		ret = if_cfg_prune(&d->dp, iface_wanted, d);
	if (ret)
		snprintf(err, errlen, "remove old interfaces from the datapath: %s",
			 strerror(-ret));
	return ret;
}

int ifaces_apply(struct canaryd *d, char *err, size_t errlen)
{
	int ret = 0;

	memset(d->ifaces, 0, sizeof(d->ifaces));
	d->nifaces = d->cfg.nifaces;
	for (unsigned int i = 0; !ret && i < d->cfg.nifaces; i++)
		ret = iface_apply(d, &d->cfg.ifaces[i], &d->ifaces[i], err, errlen);
	return ret ? ret : ifaces_prune(d, err, errlen);
}

/* Everything the config names must be there before anything changes. */
int ifaces_preflight(const struct canary_config *cfg, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < cfg->nifaces; i++) {
		if (if_nametoindex(cfg->ifaces[i].name))
			continue;
		snprintf(err, errlen, "interfaces[%u]: %s: %s", i, cfg->ifaces[i].name,
			 strerror(errno));
		return -ENODEV;
	}
	return 0;
}
