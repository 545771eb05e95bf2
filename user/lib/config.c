// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * canaryd's configuration file. Every key is checked, unknown ones included, so that a typo is an
 * error rather than a silently ignored setting; every error names the key path it is about.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "addr.h"
#include "cfgparse.h"
#include "config.h"
#include "io.h"

#define FLOWS_MIN	1024
#define FLOWS_MAX	16777216
#define WINDOW_MAX	3600
#define TCP_IDLE_MIN_MS	60000ULL		/* a minute: above every short idle time */
#define TCP_IDLE_MAX_MS	(168 * 3600000ULL)	/* a week */
#define GROUP_BUF_MAX	(1 << 20)

static const char *const top_keys[] = { "pin_dir", "state_dir", "control", "exporter",
					"flow_entries", "status_window", "prometheus",
					"breaker_every", "tcp_idle", "interfaces", "services",
					NULL };
static const char *const control_keys[] = { "socket", "group", NULL };
static const char *const exporter_keys[] = { "listen", NULL };
static const char *const iface_keys[] = { "name", "hook", "xdp", "tc", "other_host", NULL };
static const char *const service_keys[] = { "name", "vip", "port", "protocol", "hash", "http",
					    "stable", "canary", "overrides", "weight",
					    "rollout", "health", NULL };
static const char *const override_keys[] = { "prefix", "version", NULL };
static const char *const pool_keys[CANARY_V_MAX] = { "stable", "canary" };

static const char *const xdp_modes[] = {
	[CFG_XDP_AUTO] = "auto", [CFG_XDP_NATIVE] = "native",
	[CFG_XDP_GENERIC] = "generic", [CFG_XDP_OFF] = "off", NULL };
static const char *const hooks[] = {
	[CFG_HOOK_XDP] = "xdp", [CFG_HOOK_TC] = "tc", [CFG_HOOK_AUTO] = "auto", NULL };
static const char *const other_host_actions[] = { "pass", "drop", NULL };
static const char *const tc_modes[] = {
	[CFG_TC_OFF] = "off", [CFG_TC_AUTO] = "auto", [CFG_TC_CLSACT] = "clsact", NULL };
static const char *const protocols[] = { "tcp", "udp", NULL };
static const __u8 protocol_numbers[] = { IPPROTO_TCP, IPPROTO_UDP };
static const char *const hash_modes[] = {
	[CANARY_HASH_FLOW] = "flow", [CANARY_HASH_CLIENT] = "client", NULL };
static const char *const versions[] = {
	[CANARY_V_STABLE] = "stable", [CANARY_V_CANARY] = "canary", NULL };

/* The text after an endpoint's colon: 1..65535, in digits alone. */
static int port_explain(const char *text, __u16 *port, char *why, size_t whylen)
{
	size_t digits = strspn(text, "0123456789");
	char q[QUOTE_LEN];
	unsigned long v = 0;

	if (digits && digits <= 5 && !text[digits])
		v = strtoul(text, NULL, 10);
	if (v >= 1 && v <= 65535) {
		*port = (__u16)v;
		return 0;
	}
	/* Digits as they are, like the integer a JSON port would be; anything else quoted. */
	if (digits && !text[digits])
		snprintf(q, sizeof(q), "%.20s", text);
	else
		quote(text, q, sizeof(q));
	snprintf(why, whylen, "port %s is not a port (1..65535)", q);
	return -EINVAL;
}

/*
 * Parses an endpoint, and on error writes why to @why. Without brackets, an address with more
 * than one colon is a bare IPv6 address: its port, if any, needs the brackets.
 */
static int endpoint_explain(const char *text, __u16 dflt_port, __u8 addr[16], __u16 *port,
			    char *why, size_t whylen)
{
	const char *h = text, *ptext = NULL, *colon, *close;
	char host[CANARY_ADDRSTRLEN], q[QUOTE_LEN];
	size_t hlen = strlen(text);

	if (text[0] == '[') {
		close = strchr(text, ']');
		if (!close || (close[1] && close[1] != ':')) {
			snprintf(why, whylen, "%s is not ADDR, ADDR:PORT or [ADDR]:PORT",
				 quote(text, q, sizeof(q)));
			return -EINVAL;
		}
		h = text + 1;
		hlen = (size_t)(close - h);
		ptext = close[1] ? close + 2 : NULL;
	} else {
		colon = strchr(text, ':');
		if (colon && !strchr(colon + 1, ':')) {
			hlen = (size_t)(colon - text);
			ptext = colon + 1;
		}
	}
	if (hlen < sizeof(host)) {
		memcpy(host, h, hlen);
		host[hlen] = '\0';
	}
	if (hlen >= sizeof(host) || addr_parse(host, addr)) {
		snprintf(why, whylen, "%s is not an IPv4 or IPv6 address",
			 quote(hlen < sizeof(host) ? host : text, q, sizeof(q)));
		return -EINVAL;
	}
	if (ptext)
		return port_explain(ptext, port, why, whylen);
	if (!dflt_port) {
		snprintf(why, whylen, "%s needs a port (%s)", quote(text, q, sizeof(q)),
			 addr_is_v4(addr) ? "ADDR:PORT" : "[ADDR]:PORT");
		return -EINVAL;
	}
	*port = dflt_port;
	return 0;
}

int endpoint_parse(const char *text, __u16 dflt_port, __u8 addr[16], __u16 *port)
{
	char why[REASON_LEN];

	return endpoint_explain(text, dflt_port, addr, port, why, sizeof(why));
}

static const char *prefix_format(const __u8 addr[16], unsigned int plen, char *buf, size_t len)
{
	char a[CANARY_ADDRSTRLEN];
	bool v4 = addr_is_v4(addr) && plen >= 96;

	addr_format(addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, v4 ? plen - 96 : plen);
	return buf;
}

static const char *family_name(bool v4)
{
	return v4 ? "IPv4" : "IPv6";
}

int weight_parse(const char *text, __u16 *bp, char *err, size_t errlen)
{
	const char *s = text + (text[0] == '-');
	unsigned int value = 0, ndigits = 0, ndec = 0;
	char q[QUOTE_LEN];

	/*
	 * The shape first: digits, then optionally a point and digits. A leading minus is read too,
	 * so that "-1" is called out of range rather than not a number.
	 */
	for (; *s >= '0' && *s <= '9'; s++, ndigits++)
		if (ndigits < 4)
			value = value * 10 + (unsigned int)(*s - '0');
	if (*s == '.' && ndigits) {
		for (s++; *s >= '0' && *s <= '9'; s++, ndec++)
			if (ndec < 2)
				value = value * 10 + (unsigned int)(*s - '0');
		if (!ndec)
			ndigits = 0;
	}
	if (!ndigits || *s) {
		snprintf(err, errlen, "%s is not a number", quote(text, q, sizeof(q)));
		return -EINVAL;
	}
	for (unsigned int i = ndec; i < 2; i++)
		value *= 10;
	if (text[0] == '-' || ndigits > 3 || value > CANARY_WEIGHT_MAX) {
		snprintf(err, errlen, "%s is not a percentage (0..100)", quote(text, q, sizeof(q)));
		return -EINVAL;
	}
	if (ndec > 2) {
		snprintf(err, errlen, "%s has more than two decimals", quote(text, q, sizeof(q)));
		return -EINVAL;
	}
	*bp = (__u16)value;
	return 0;
}

const char *weight_format(__u16 bp, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%02u", bp / 100, bp % 100);
	return buf;
}

const struct cfg_service *config_service(const struct canary_config *cfg, const char *name)
{
	for (unsigned int i = 0; i < cfg->nservices; i++)
		if (!strcmp(cfg->services[i].name, name))
			return &cfg->services[i];
	return NULL;
}

static int lookup_group(struct parser *p, const char *name)
{
	long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
	size_t size = hint > 0 ? (size_t)hint : 1024;
	struct group grp, *res = NULL;
	char q[QUOTE_LEN];
	char *buf;
	int ret;

	/* The size is only a hint: large groups need more, and getgrnam_r says so with ERANGE. */
	for (;;) {
		buf = malloc(size);
		if (!buf)
			return fail_nomem(p, "group");
		ret = getgrnam_r(name, &grp, buf, size, &res);
		if (ret != ERANGE || size >= GROUP_BUF_MAX)
			break;
		free(buf);
		size *= 2;
	}
	if (res) {
		p->cfg->control_gid = grp.gr_gid;
		p->cfg->control_has_group = true;
	}
	free(buf);
	if (res)
		return 0;
	if (ret && ret != ENOENT && ret != ESRCH)
		return fail(p, "group", "look up %s: %s", quote(name, q, sizeof(q)), strerror(ret));
	return fail(p, "group", "no group %s", quote(name, q, sizeof(q)));
}

static int parse_control(struct parser *p, json_t *root)
{
	const char *group = NULL;
	json_t *obj = NULL;
	size_t mark = 0;
	int ret = cfg_enter(p, root, "control", control_keys, &obj, &mark);

	if (ret <= 0)
		return ret;
	/* A socket path is bound by sun_path's size, much smaller than PATH_MAX. */
	ret = get_abs_path(p, obj, "socket", p->cfg->control_socket,
			   sizeof(((struct sockaddr_un *)0)->sun_path));
	if (ret >= 0)
		ret = get_string(p, obj, "group", false, &group);
	if (ret > 0)
		ret = lookup_group(p, group);
	return cfg_leave(p, mark, ret);
}

static int exporter_set(struct parser *p, const char *key, const char *text)
{
	struct canary_config *cfg = p->cfg;
	char why[REASON_LEN];
	__u16 port;
	__u8 addr[16];
	int ret;

	ret = copy_text(p, key, cfg->exporter_listen, sizeof(cfg->exporter_listen), text);
	if (ret)
		return ret;
	cfg->exporter_on = strcmp(text, "off");
	if (!cfg->exporter_on)
		return 0;
	if (endpoint_explain(text, 0, addr, &port, why, sizeof(why)))
		return fail(p, key, "%s", why);
	memset(&cfg->exporter_addr, 0, sizeof(cfg->exporter_addr));
	if (addr_is_v4(addr)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&cfg->exporter_addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, addr + 12, 4);
		cfg->exporter_addrlen = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&cfg->exporter_addr;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, addr, 16);
		cfg->exporter_addrlen = sizeof(*sin6);
	}
	return 0;
}

static int parse_exporter(struct parser *p, json_t *root)
{
	const char *listen = NULL;
	json_t *obj = NULL;
	size_t mark = 0;
	int ret = cfg_enter(p, root, "exporter", exporter_keys, &obj, &mark);

	if (ret <= 0)
		return ret;
	ret = get_string(p, obj, "listen", false, &listen);
	if (ret > 0)
		ret = exporter_set(p, "listen", listen);
	return cfg_leave(p, mark, ret);
}

static int parse_globals(struct parser *p, json_t *root)
{
	struct canary_config *cfg = p->cfg;
	json_int_t v;
	int ret;

	ret = get_abs_path(p, root, "pin_dir", cfg->pin_dir, sizeof(cfg->pin_dir));
	if (ret >= 0)
		ret = get_abs_path(p, root, "state_dir", cfg->state_dir, sizeof(cfg->state_dir));
	if (ret >= 0)
		ret = parse_control(p, root);
	if (ret >= 0)
		ret = parse_exporter(p, root);
	if (ret >= 0)
		ret = get_int(p, root, "flow_entries", false, FLOWS_MIN, FLOWS_MAX,
			      "is not in 1024..16777216", &v);
	if (ret > 0)
		cfg->flow_entries = (__u32)v;
	if (ret >= 0)
		ret = get_int(p, root, "status_window", false, 1, WINDOW_MAX,
			      "is not in 1..3600 (seconds)", &v);
	if (ret > 0)
		cfg->status_window_s = (unsigned int)v;
	if (ret >= 0)
		ret = plan_parse_prometheus(p, root);
	if (ret >= 0)
		ret = plan_parse_breaker_every(p, root);
	if (ret >= 0)
		ret = get_duration(p, root, "tcp_idle", false, TCP_IDLE_MIN_MS, TCP_IDLE_MAX_MS,
				   &cfg->tcp_idle_ms);
	return ret < 0 ? ret : 0;
}

/* What the kernel accepts as a device name (dev_valid_name()). */
static bool ifname_valid(const char *name)
{
	if (!name[0] || strlen(name) >= IF_NAMESIZE || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (; *name; name++)
		if (*name == '/' || *name == ':' || isspace((unsigned char)*name))
			return false;
	return true;
}

/* @key is NULL for the shorthand, where the name is the element itself. */
static int iface_name(struct parser *p, const char *key, const char *name, unsigned int idx)
{
	struct canary_config *cfg = p->cfg;
	char q[QUOTE_LEN];

	if (!name[0])
		return fail(p, key, "must not be empty");
	if (strlen(name) >= IF_NAMESIZE)
		return fail(p, key, "%s is longer than %d characters", quote(name, q, sizeof(q)),
			    IF_NAMESIZE - 1);
	if (!ifname_valid(name))
		return fail(p, key, "%s is not an interface name", quote(name, q, sizeof(q)));
	for (unsigned int i = 0; i < idx; i++)
		if (!strcmp(cfg->ifaces[i].name, name))
			return fail(p, key, "\"%s\" is listed in interfaces[%u] too", name, i);
	strcpy(cfg->ifaces[idx].name, name);
	return 0;
}

/* "xdp" says how XDP runs; with the forward program elsewhere, only "off" means anything. */
static int parse_hook(struct parser *p, json_t *v, struct cfg_iface *ifc)
{
	unsigned int hook;
	int ret = get_enum(p, v, "hook", hooks, "xdp, tc or auto", &hook);

	if (ret <= 0)
		return ret;
	ifc->hook = (enum cfg_hook)hook;
	if (ifc->hook == CFG_HOOK_XDP || !json_object_get(v, "xdp"))
		return 0;
	if (ifc->xdp == CFG_XDP_OFF)
		return fail(p, "hook", "\"xdp\": \"off\" runs no forward program on %s: leave out "
			    "\"hook\", or \"xdp\"", ifc->name);
	if (ifc->hook == CFG_HOOK_TC)
		return fail(p, "hook", "\"tc\" runs no XDP on %s: leave out \"xdp\"", ifc->name);
	return 0;
}

static int parse_iface(struct parser *p, json_t *v, unsigned int idx)
{
	struct cfg_iface *ifc = &p->cfg->ifaces[idx];
	unsigned int mode;
	const char *name = NULL;
	int ret;

	ifc->hook = CFG_HOOK_XDP;
	ifc->xdp = CFG_XDP_AUTO;
	ifc->tc = CFG_TC_OFF;
	if (json_is_string(v))
		return iface_name(p, NULL, json_string_value(v), idx);
	if (!json_is_object(v))
		return fail(p, NULL, "expected a string or an object");
	ret = check_keys(p, v, iface_keys);
	if (!ret)
		ret = get_string(p, v, "name", true, &name);
	if (ret > 0)
		ret = iface_name(p, "name", name, idx);
	if (!ret)
		ret = get_enum(p, v, "xdp", xdp_modes, "auto, native, generic or off", &mode);
	if (ret > 0)
		ifc->xdp = (enum cfg_xdp_mode)mode;
	if (ret >= 0)
		ret = get_enum(p, v, "tc", tc_modes, "off, auto or clsact", &mode);
	if (ret > 0)
		ifc->tc = (enum cfg_tc_mode)mode;
	if (ret >= 0)
		ret = get_enum(p, v, "other_host", other_host_actions, "pass or drop", &mode);
	if (ret > 0)
		ifc->drop_other_host = mode == 1;
	if (ret >= 0)
		ret = parse_hook(p, v, ifc);
	return ret < 0 ? ret : 0;
}

static int parse_ifaces(struct parser *p, json_t *root)
{
	json_t *arr = NULL, *v;
	size_t n, i, mark;
	int ret = get(p, root, "interfaces", JSON_ARRAY, true, &arr);

	if (ret < 0)
		return ret;
	n = json_array_size(arr);
	if (!n)
		return fail(p, "interfaces", "at least one interface is needed");
	if (n > CFG_MAX_IFACES)
		return fail(p, "interfaces", "%zu interfaces, at most %d", n, CFG_MAX_IFACES);
	json_array_foreach(arr, i, v) {
		mark = push(p, "interfaces[%zu]", i);
		ret = parse_iface(p, v, (unsigned int)i);
		pop(p, mark);
		if (ret)
			return ret;
	}
	p->cfg->nifaces = (unsigned int)n;
	return 0;
}

static int service_name(struct parser *p, struct cfg_service *svc, json_t *obj)
{
	const char *name = NULL;
	int ret = get_string(p, obj, "name", true, &name);

	if (ret < 0)
		return ret;
	return name_set(p, "name", name, svc->name, sizeof(svc->name));
}

/* The datapath rewrites addresses, never the family: a pool must be the VIP's family. */
static int backend_add(struct parser *p, struct cfg_service *svc, unsigned int ver, json_t *v)
{
	char why[REASON_LEN], a[CANARY_ADDRSTRLEN + 8];
	unsigned int n = svc->npool[ver];
	struct backend *be = &svc->pool[ver][n];
	bool v4 = addr_is_v4(svc->key.addr);

	if (!json_is_string(v))
		return fail(p, NULL, "expected a string");
	if (endpoint_explain(json_string_value(v), svc->key.port, be->addr, &be->port, why,
			     sizeof(why)))
		return fail(p, NULL, "%s", why);
	if (addr_is_v4(be->addr) != v4)
		return fail(p, NULL, "%s is %s but the vip is %s",
			    addr_format(be->addr, a, sizeof(a)), family_name(!v4),
			    family_name(v4));
	for (unsigned int i = 0; i < n; i++)
		if (!memcmp(svc->pool[ver][i].addr, be->addr, 16) &&
		    svc->pool[ver][i].port == be->port)
			return fail(p, NULL, "%s is in %s[%u] too",
				    endpoint_format(be->addr, be->port, a, sizeof(a)),
				    pool_keys[ver], i);
	svc->npool[ver] = n + 1;
	return 0;
}

static int parse_pool(struct parser *p, struct cfg_service *svc, json_t *obj, unsigned int ver)
{
	const char *key = pool_keys[ver];
	json_t *arr = NULL, *v;
	size_t n, i, mark;
	int ret = get(p, obj, key, JSON_ARRAY, true, &arr);

	if (ret < 0)
		return ret;
	n = json_array_size(arr);
	if (!n && ver == CANARY_V_STABLE)
		return fail(p, key, "at least one backend is needed");
	if (n > CANARY_MAX_BACKENDS)
		return fail(p, key, "%zu backends, at most %d", n, CANARY_MAX_BACKENDS);
	json_array_foreach(arr, i, v) {
		mark = push(p, ".%s[%zu]", key, i);
		ret = backend_add(p, svc, ver, v);
		pop(p, mark);
		if (ret)
			return ret;
	}
	return 0;
}

static bool bit_of(const __u8 addr[16], unsigned int bit)
{
	return addr[bit / 8] & (0x80 >> (bit % 8));
}

/* Whether the prefix holds any address of the family: IPv4 is ::ffff:0:0/96 in this space. */
static bool prefix_meets_family(const __u8 addr[16], unsigned int plen, bool v4)
{
	static const __u8 mapped[16] = { [10] = 0xff, [11] = 0xff };

	if (!v4)
		return plen < 96 || !addr_is_v4(addr);
	for (unsigned int bit = 0; bit < plen && bit < 96; bit++)
		if (bit_of(addr, bit) != bit_of(mapped, bit))
			return false;
	return true;
}

static int override_add(struct parser *p, struct cfg_service *svc, json_t *v)
{
	struct cfg_override *ov = &svc->overrides[svc->noverrides];
	char q[QUOTE_LEN], a[CANARY_ADDRSTRLEN + 8];
	bool v4 = addr_is_v4(svc->key.addr);
	unsigned int version = CANARY_V_MAX;
	const char *prefix = NULL;
	int ret;

	if (!json_is_object(v))
		return fail(p, NULL, "expected an object");
	ret = check_keys(p, v, override_keys);
	if (!ret)
		ret = get_string(p, v, "prefix", true, &prefix);
	if (ret < 0)
		return ret;
	if (prefix_parse(prefix, ov->addr, &ov->plen))
		return fail(p, "prefix", "%s is not a prefix (ADDR/LEN)",
			    quote(prefix, q, sizeof(q)));
	if (!prefix_meets_family(ov->addr, ov->plen, v4))
		return fail(p, "prefix", "%s is %s but the vip is %s",
			    prefix_format(ov->addr, ov->plen, a, sizeof(a)), family_name(!v4),
			    family_name(v4));
	for (unsigned int i = 0; i < svc->noverrides; i++)
		if (svc->overrides[i].plen == ov->plen &&
		    !memcmp(svc->overrides[i].addr, ov->addr, 16))
			return fail(p, "prefix", "%s is in overrides[%u] too",
				    prefix_format(ov->addr, ov->plen, a, sizeof(a)), i);
	ret = get_enum(p, v, "version", versions, "stable or canary", &version);
	if (ret < 0)
		return ret;
	if (!ret)
		return fail(p, "version", "missing");
	ov->version = (__u8)version;
	svc->noverrides++;
	return 0;
}

static int parse_overrides(struct parser *p, struct cfg_service *svc, json_t *obj)
{
	json_t *arr = NULL, *v;
	size_t n, i, mark;
	int ret = get(p, obj, "overrides", JSON_ARRAY, false, &arr);

	if (ret <= 0)
		return ret;
	n = json_array_size(arr);
	if (!n)
		return 0;
	svc->overrides = calloc(n, sizeof(*svc->overrides));
	if (!svc->overrides)
		return fail_nomem(p, "overrides");
	json_array_foreach(arr, i, v) {
		mark = push(p, ".overrides[%zu]", i);
		ret = override_add(p, svc, v);
		pop(p, mark);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_weight(struct parser *p, struct cfg_service *svc, json_t *obj)
{
	char num[NUMBER_LEN];
	json_t *v = NULL;
	__u16 bp;
	int ret = get(p, obj, "weight", JSON_REAL, false, &v);

	if (ret <= 0)
		return ret;
	ret = percent_value(p, "weight", v, false, &bp);
	if (ret)
		return ret;
	if (bp && !svc->npool[CANARY_V_CANARY])
		return fail(p, "weight", "%s but the canary pool is empty",
			    number_text(v, num, sizeof(num)));
	svc->weight = bp;
	return 0;
}

/* Name, VIP, port, protocol, mode: what the pools and overrides are checked against. */
static int service_head(struct parser *p, struct cfg_service *svc, json_t *obj)
{
	unsigned int proto = 0, mode = CANARY_HASH_FLOW;
	char q[QUOTE_LEN];
	const char *vip = NULL;
	json_int_t port;
	json_t *http = NULL;
	int ret;

	ret = service_name(p, svc, obj);
	if (!ret)
		ret = get_string(p, obj, "vip", true, &vip);
	if (ret < 0)
		return ret;
	if (addr_parse(vip, svc->key.addr))
		return fail(p, "vip", "%s is not an IPv4 or IPv6 address",
			    quote(vip, q, sizeof(q)));
	ret = get_int(p, obj, "port", true, 1, 65535, "is not a port (1..65535)", &port);
	if (ret >= 0)
		ret = get_enum(p, obj, "protocol", protocols, "tcp or udp", &proto);
	if (ret >= 0)
		ret = get_enum(p, obj, "hash", hash_modes, "flow or client", &mode);
	if (ret >= 0)
		ret = get(p, obj, "http", JSON_TRUE, false, &http);
	if (ret < 0)
		return ret;
	svc->key.port = (__u16)port;
	svc->key.proto = protocol_numbers[proto];
	svc->mode = (__u8)mode;
	svc->http = ret > 0 && json_is_true(http);
	if (svc->http && svc->key.proto != IPPROTO_TCP)
		return fail(p, "http", "true but the protocol is %s", protocols[proto]);
	return 0;
}

static int parse_service(struct parser *p, struct cfg_service *svc, json_t *obj)
{
	int ret;

	if (!json_is_object(obj))
		return fail(p, NULL, "expected an object");
	ret = check_keys(p, obj, service_keys);
	if (!ret)
		ret = service_head(p, svc, obj);
	if (!ret)
		ret = parse_pool(p, svc, obj, CANARY_V_STABLE);
	if (!ret)
		ret = parse_pool(p, svc, obj, CANARY_V_CANARY);
	if (!ret)
		ret = parse_overrides(p, svc, obj);
	if (!ret)
		ret = parse_weight(p, svc, obj);
	if (!ret)
		ret = plan_parse_rollout(p, svc, obj);
	if (!ret)
		ret = plan_parse_health(p, svc, obj);
	return ret;
}

/* Names and (vip, port, protocol) are what operators and the datapath tell services apart by. */
static int service_unique(struct parser *p, unsigned int idx)
{
	const struct cfg_service *svc = &p->cfg->services[idx], *o;

	for (unsigned int i = 0; i < idx; i++) {
		o = &p->cfg->services[i];
		if (!strcmp(o->name, svc->name))
			return fail(p, "name", "\"%s\" is used by services[%u] too", svc->name, i);
		if (!memcmp(&o->key, &svc->key, sizeof(o->key)))
			return fail(p, NULL, "same vip, port and protocol as services[%u] (\"%s\")",
				    i, o->name);
	}
	return 0;
}

/* The service whose VIP is @addr, or -1. */
static int vip_owner(const struct canary_config *cfg, const __u8 addr[16])
{
	for (unsigned int t = 0; t < cfg->nservices; t++)
		if (!memcmp(addr, cfg->services[t].key.addr, 16))
			return (int)t;
	return -1;
}

/* A backend at a VIP address would have its traffic taken for the service's again. */
static int backends_not_vips(struct parser *p)
{
	const struct canary_config *cfg = p->cfg;
	char a[CANARY_ADDRSTRLEN];
	const __u8 *be;
	int t, ret;
	size_t mark;

	for (unsigned int s = 0; s < cfg->nservices; s++) {
		for (unsigned int i = 0; i < CANARY_V_MAX * CANARY_MAX_BACKENDS; i++) {
			unsigned int ver = i / CANARY_MAX_BACKENDS, b = i % CANARY_MAX_BACKENDS;

			if (b >= cfg->services[s].npool[ver])
				continue;
			be = cfg->services[s].pool[ver][b].addr;
			t = vip_owner(cfg, be);
			if (t < 0)
				continue;
			mark = push(p, "services[%u].%s[%u]", s, pool_keys[ver], b);
			ret = fail(p, NULL, "%s is the vip of services[%d] (\"%s\")",
				   addr_format(be, a, sizeof(a)), t, cfg->services[t].name);
			pop(p, mark);
			return ret;
		}
	}
	return 0;
}

/* Where a backend stands in the config: services[svc].<version's pool>[slot]. */
struct be_place {
	const struct backend *be;
	unsigned int svc, ver, slot;
};

static bool same_backend(const struct backend *a, const struct backend *b)
{
	return !memcmp(a->addr, b->addr, 16) && a->port == b->port;
}

/* By address and port, then by place: a backend's places together, its services in order. */
static int be_place_cmp(const void *a, const void *b)
{
	const struct be_place *x = a, *y = b;
	int d = memcmp(x->be->addr, y->be->addr, 16);

	if (!d)
		d = (int)x->be->port - (int)y->be->port;
	if (!d)
		d = (int)x->svc - (int)y->svc;
	if (!d)
		d = (int)(x->ver * CANARY_MAX_BACKENDS + x->slot) -
		    (int)(y->ver * CANARY_MAX_BACKENDS + y->slot);
	return d;
}

/* Every backend of every pool, sorted; NULL when out of memory. */
static struct be_place *be_places(const struct canary_config *cfg, size_t *n)
{
	struct be_place *pl;
	size_t total = 0;

	for (unsigned int s = 0; s < cfg->nservices; s++)
		for (unsigned int v = 0; v < CANARY_V_MAX; v++)
			total += cfg->services[s].npool[v];
	pl = calloc(total ? total : 1, sizeof(*pl));
	if (!pl)
		return NULL;
	*n = 0;
	for (unsigned int s = 0; s < cfg->nservices; s++)
		for (unsigned int v = 0; v < CANARY_V_MAX; v++)
			for (unsigned int b = 0; b < cfg->services[s].npool[v]; b++)
				pl[(*n)++] = (struct be_place){ &cfg->services[s].pool[v][b], s, v,
								b };
	qsort(pl, *n, sizeof(*pl), be_place_cmp);
	return pl;
}

/* @over is the first place of a service past the limit; @first, the backend's first place. */
static int backend_shared_fail(struct parser *p, const struct be_place *first,
			       const struct be_place *over)
{
	const struct canary_config *cfg = p->cfg;
	char ep[CANARY_ENDPOINTSTRLEN], names[CANARY_BE_SVC_MAX * (CFG_NAME_MAX + 4)];
	size_t o = 0, mark;
	int ret;

	names[0] = '\0';
	for (const struct be_place *pl = first; pl < over; pl++)
		if (pl == first || pl->svc != pl[-1].svc)
			buf_appendf(names, sizeof(names), &o, "%s\"%s\"", o ? ", " : "",
				    cfg->services[pl->svc].name);
	mark = push(p, "services[%u].%s[%u]", over->svc, pool_keys[over->ver], over->slot);
	ret = fail(p, NULL, "%s is in more than %d services' pools, the most the datapath can map "
		   "a backend to (already in %s)",
		   endpoint_format(over->be->addr, over->be->port, ep, sizeof(ep)),
		   CANARY_BE_SVC_MAX, names);
	pop(p, mark);
	return ret;
}

/*
 * A reply finds its connection through the services its backend serves (be_svc), at most
 * CANARY_BE_SVC_MAX of them: the pools of a backend in more could not all be published.
 */
static int backends_within_svc_limit(struct parser *p)
{
	struct be_place *pl;
	unsigned int nsvc = 0;
	size_t n, first = 0;
	int ret = 0;

	pl = be_places(p->cfg, &n);
	if (!pl)
		return fail_nomem(p, "services");
	for (size_t i = 0; i < n && !ret; i++) {
		if (!i || !same_backend(pl[i].be, pl[i - 1].be)) {
			first = i;
			nsvc = 0;
		}
		if (i == first || pl[i].svc != pl[i - 1].svc)
			nsvc++;
		if (nsvc > CANARY_BE_SVC_MAX)
			ret = backend_shared_fail(p, &pl[first], &pl[i]);
	}
	free(pl);
	return ret;
}

static int parse_services(struct parser *p, json_t *root)
{
	struct canary_config *cfg = p->cfg;
	json_t *arr = NULL, *v;
	size_t n, i, mark;
	int ret = get(p, root, "services", JSON_ARRAY, true, &arr);

	if (ret < 0)
		return ret;
	n = json_array_size(arr);
	if (n > CANARY_MAX_SVC)
		return fail(p, "services", "%zu services, at most %d", n, CANARY_MAX_SVC);
	if (!n)
		return 0;
	cfg->services = calloc(n, sizeof(*cfg->services));
	if (!cfg->services)
		return fail_nomem(p, "services");
	/* Counted from the start: config_free() then frees whatever a failed parse left. */
	cfg->nservices = (unsigned int)n;
	json_array_foreach(arr, i, v) {
		mark = push(p, "services[%zu]", i);
		ret = parse_service(p, &cfg->services[i], v);
		if (!ret)
			ret = service_unique(p, (unsigned int)i);
		pop(p, mark);
		if (ret)
			return ret;
	}
	ret = backends_not_vips(p);
	return ret ? ret : backends_within_svc_limit(p);
}

static int set_defaults(struct parser *p)
{
	struct canary_config *cfg = p->cfg;

	strcpy(cfg->pin_dir, CANARY_PIN_DIR);
	strcpy(cfg->state_dir, CANARY_STATE_DEFAULT);
	strcpy(cfg->control_socket, CANARY_SOCKET_DEFAULT);
	cfg->flow_entries = CANARY_FLOWS_DEFAULT;
	cfg->status_window_s = 10;
	cfg->tcp_idle_ms = CANARY_IDLE_TCP_NS / 1000000;
	return exporter_set(p, "exporter.listen", CANARY_EXPORTER_DEFAULT);
}

/* Takes @root's reference. */
static int config_build(json_t *root, const char *origin, struct canary_config *cfg, char *err,
			size_t errlen)
{
	struct parser p = { .cfg = cfg, .err = err, .errlen = errlen };
	int ret;

	if (!json_is_object(root)) {
		ret = fail(&p, NULL, "expected a JSON object at the top level");
		goto out;
	}
	strcpy(cfg->path, origin);
	ret = set_defaults(&p);
	if (!ret)
		ret = check_keys(&p, root, top_keys);
	if (!ret)
		ret = parse_globals(&p, root);
	if (!ret)
		ret = parse_ifaces(&p, root);
	if (!ret)
		ret = parse_services(&p, root);
out:
	json_decref(root);
	if (ret)
		config_free(cfg);
	return ret;
}

static bool blank(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!text[i] || !strchr(" \t\r\n", text[i]))
			return false;
	return true;
}

static int config_parse_len(const char *text, size_t len, const char *origin,
			    struct canary_config *cfg, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	memset(cfg, 0, sizeof(*cfg));
	if (strlen(origin) >= sizeof(cfg->path)) {
		snprintf(err, errlen, "%.64s...: %s", origin, strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	/* jansson's "'[' or '{' expected near end of file" would puzzle a person. */
	if (blank(text, len)) {
		snprintf(err, errlen, "%s: empty, expected a JSON object", origin);
		return -EINVAL;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line > 0)
			snprintf(err, errlen, "%s:%d:%d: %s", origin, jerr.line, jerr.column,
				 jerr.text);
		else
			snprintf(err, errlen, "%s: %s", origin, jerr.text);
		return json_error_code(&jerr) == json_error_out_of_memory ? -ENOMEM : -EINVAL;
	}
	return config_build(root, origin, cfg, err, errlen);
}

int config_parse(const char *text, const char *origin, struct canary_config *cfg, char *err,
		 size_t errlen)
{
	return config_parse_len(text, strlen(text), origin, cfg, err, errlen);
}

/* The whole of @fd: files, but also pipes such as /dev/stdin, whose size fstat() does not know. */
static int read_all(int fd, char **out, size_t *outlen)
{
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap), *bigger;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			free(buf);
			return (int)n;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

int config_load(const char *path, struct canary_config *cfg, char *err, size_t errlen)
{
	struct stat st;
	size_t len = 0;
	char *text = NULL;
	int fd, ret;

	memset(cfg, 0, sizeof(*cfg));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = fstat(fd, &st) ? -errno : 0;
	if (!ret && S_ISDIR(st.st_mode))
		ret = -EISDIR;
	if (!ret)
		ret = read_all(fd, &text, &len);
	close(fd);
	if (ret)
		goto fail;
	ret = config_parse_len(text, len, path, cfg, err, errlen);
	free(text);
	return ret;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	return ret;
}

void config_free(struct canary_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nservices; i++) {
		free(cfg->services[i].overrides);
		free(cfg->services[i].plan);
		free(cfg->services[i].health);
	}
	free(cfg->services);
	memset(cfg, 0, sizeof(*cfg));
}
