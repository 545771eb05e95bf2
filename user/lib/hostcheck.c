// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>

#include "addr.h"
#include "hostcheck.h"
#include "io.h"

#define REMOTE_LISTED	3	/* backends a message names; the rest are "others" */

int host_btf_check(const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(err, errlen, "no kernel BTF at %s (%s): the CO-RE programs cannot load; the "
		 "kernel must be built with CONFIG_DEBUG_INFO_BTF=y", path, strerror(errno));
	return -ENOENT;
}

const char *host_btf_path(void)
{
	const char *path = getenv(HOST_BTF_ENV);

	return path && path[0] ? path : HOST_BTF_PATH;
}

static int host_addr_add(struct host_addrs *a, const struct sockaddr *sa)
{
	__u8 (*more)[16] = realloc(a->addr, (a->n + 1) * sizeof(*a->addr));
	__u8 *addr;

	if (!more)
		return -ENOMEM;
	a->addr = more;
	addr = a->addr[a->n++];
	if (sa->sa_family == AF_INET6) {
		memcpy(addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	/* The map ABI's IPv4 form: ::ffff:a.b.c.d. */
	memset(addr, 0, 10);
	memset(addr + 10, 0xff, 2);
	memcpy(addr + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	return 0;
}

int host_addrs_local(struct host_addrs *a, char *err, size_t errlen)
{
	struct ifaddrs *ifa, *i;
	int ret = 0;

	*a = (struct host_addrs){};
	if (getifaddrs(&ifa)) {
		ret = -errno;
		snprintf(err, errlen, "list local addresses: %s", strerror(errno));
		return ret;
	}
	for (i = ifa; i && !ret; i = i->ifa_next)
		if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET ||
				    i->ifa_addr->sa_family == AF_INET6))
			ret = host_addr_add(a, i->ifa_addr);
	freeifaddrs(ifa);
	if (ret) {
		snprintf(err, errlen, "list local addresses: %s", strerror(-ret));
		host_addrs_free(a);
	}
	return ret;
}

void host_addrs_free(struct host_addrs *a)
{
	free(a->addr);
	*a = (struct host_addrs){};
}

static bool addr_local(const struct host_addrs *local, const __u8 addr[16])
{
	for (unsigned int i = 0; i < local->n; i++)
		if (!memcmp(local->addr[i], addr, 16))
			return true;
	return false;
}

/* Remote backends the message names, each once. */
struct remote_list {
	const struct backend *be[REMOTE_LISTED];
	unsigned int n;
	bool others;
};

static void remote_note(struct remote_list *r, const struct backend *be)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (!memcmp(r->be[i]->addr, be->addr, 16) && r->be[i]->port == be->port)
			return;
	if (r->n < REMOTE_LISTED)
		r->be[r->n++] = be;
	else
		r->others = true;
}

bool backends_remote(const struct canary_config *cfg, const struct host_addrs *local, bool v4,
		     char *list, size_t len)
{
	struct remote_list r = {};
	char ep[CANARY_ENDPOINTSTRLEN];
	size_t off = 0;

	for (unsigned int s = 0; s < cfg->nservices; s++) {
		const struct cfg_service *svc = &cfg->services[s];

		for (unsigned int v = 0; v < CANARY_V_MAX; v++)
			for (unsigned int b = 0; b < svc->npool[v]; b++)
				if (addr_is_v4(svc->pool[v][b].addr) == v4 &&
				    !addr_local(local, svc->pool[v][b].addr))
					remote_note(&r, &svc->pool[v][b]);
	}
	list[0] = '\0';
	for (unsigned int i = 0; i < r.n; i++)
		buf_appendf(list, len, &off, "%s%s", i ? ", " : "",
			    endpoint_format(r.be[i]->addr, r.be[i]->port, ep, sizeof(ep)));
	if (r.others)
		buf_appendf(list, len, &off, " and others");
	return r.n > 0;
}

const char *forwarding_sysctl(const char *ifname, bool v4, char *buf, size_t len)
{
	size_t off = 0;

	buf_appendf(buf, len, &off, "net.ipv%c.conf.", v4 ? '4' : '6');
	for (const char *c = ifname; *c && off + 1 < len; c++)
		buf[off++] = *c == '.' ? '/' : *c;
	buf[off] = '\0';
	buf_appendf(buf, len, &off, ".forwarding");
	return buf;
}

/* The value of SYSCTL_ROOT/net/ipv?/conf/IFNAME/forwarding, or a negative errno. */
static int forwarding_read(const char *sysctl_root, const char *ifname, bool v4, char *err,
			   size_t errlen)
{
	char path[PATH_MAX];
	int val = -1, ret;
	FILE *f;

	snprintf(path, sizeof(path), "%s/net/ipv%c/conf/%s/forwarding", sysctl_root,
		 v4 ? '4' : '6', ifname);
	f = fopen(path, "re");
	if (!f || fscanf(f, "%d", &val) != 1) {
		ret = f ? -EINVAL : -errno;
		snprintf(err, errlen, "read %s: %s", path, f ? "not a number" : strerror(errno));
		if (f)
			fclose(f);
		return ret;
	}
	fclose(f);
	return val;
}

static int family_check(const struct canary_config *cfg, const struct host_addrs *local, bool v4,
			const char *sysctl_root, char *err, size_t errlen)
{
	char remote[3 * CANARY_ENDPOINTSTRLEN + 16], name[IF_NAMESIZE + 32];

	if (!backends_remote(cfg, local, v4, remote, sizeof(remote)))
		return 0;
	for (unsigned int i = 0; i < cfg->nifaces; i++) {
		const struct cfg_iface *ifc = &cfg->ifaces[i];
		int val;

		if (ifc->xdp == CFG_XDP_OFF)
			continue;	/* no forward program there */
		val = forwarding_read(sysctl_root, ifc->name, v4, err, errlen);
		if (val < 0)
			return val;
		if (val == 1)
			continue;
		forwarding_sysctl(ifc->name, v4, name, sizeof(name));
		snprintf(err, errlen, "forwarding is off on %s (%s=%d) and backends %s are remote: "
			 "new flows would be dropped; sysctl -w %s=1", ifc->name, name, val, remote,
			 name);
		return -EHOSTUNREACH;
	}
	return 0;
}

int host_forwarding_check(const struct canary_config *cfg, const struct host_addrs *local,
			  const char *sysctl_root, char *err, size_t errlen)
{
	int ret = family_check(cfg, local, true, sysctl_root, err, errlen);

	return ret ?: family_check(cfg, local, false, sysctl_root, err, errlen);
}

int host_forwarding_check_here(const struct canary_config *cfg, char *err, size_t errlen)
{
	struct host_addrs local;
	int ret;

	ret = host_addrs_local(&local, err, errlen);
	if (ret)
		return ret;
	ret = host_forwarding_check(cfg, &local, HOST_SYSCTL_ROOT, err, errlen);
	host_addrs_free(&local);
	return ret;
}
