/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * canaryd's configuration file (JSON): what to attach to, which services to split, and where
 * the agent keeps its pins, state, control socket and exporter. Parsing validates everything
 * and touches nothing: a config that loads is one the agent can apply.
 */
#ifndef XDP_CANARY_CONFIG_H
#define XDP_CANARY_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <net/if.h>
#include <jansson.h>

#include "canary_abi.h"
#include "plan.h"

#define CANARY_CONFIG_DEFAULT	"/etc/xdp-canary/canaryd.json"
#define CANARY_SOCKET_DEFAULT	"/run/xdp-canary/canaryd.sock"
#define CANARY_STATE_DEFAULT	"/var/lib/xdp-canary"
#define CANARY_EXPORTER_DEFAULT	"127.0.0.1:9435"
#define CFG_MAX_IFACES		16
#define CFG_NAME_MAX		64	/* service names: [A-Za-z0-9_.-], 1..63 characters */

enum cfg_xdp_mode {
	CFG_XDP_AUTO,		/* native where the driver has it, else generic (with a warning) */
	CFG_XDP_NATIVE,		/* native or fail */
	CFG_XDP_GENERIC,
	CFG_XDP_OFF,
};

enum cfg_tc_mode {
	CFG_TC_OFF,		/* no reply program on egress: backends are remote */
	CFG_TC_AUTO,		/* TCX where the kernel has it (6.6+), else clsact */
	CFG_TC_CLSACT,
};

/* Where the forward program runs. */
enum cfg_hook {
	CFG_HOOK_XDP,
	CFG_HOOK_TC,		/* TC ingress: tcx where the kernel has it, else clsact */
	CFG_HOOK_AUTO,		/* TC on veth (local senders' partial checksums), XDP elsewhere */
};

struct cfg_iface {
	char name[IF_NAMESIZE];
	enum cfg_hook hook;	/* "hook": "xdp" | "tc" | "auto"; default xdp */
	enum cfg_xdp_mode xdp;	/* "xdp": "auto" | "native" | "generic" | "off"; default auto */
	enum cfg_tc_mode tc;	/* "tc": "off" | "auto" | "clsact"; default off */
	bool drop_other_host;	/* "other_host": "pass" (default) | "drop" */
};

struct cfg_override {
	__u8 addr[16];		/* prefix, bits past plen cleared */
	unsigned int plen;	/* in the 128-bit space (IPv4 /24 is /120) */
	__u8 version;		/* enum canary_version */
};

struct cfg_service {
	char name[CFG_NAME_MAX];
	struct svc_key key;	/* vip (16-byte form), port (host order), proto */
	__u8 mode;		/* enum canary_hash_mode: "hash": "flow" (default) | "client" */
	bool http;		/* "http": read response status lines; TCP only */
	struct backend pool[CANARY_V_MAX][CANARY_MAX_BACKENDS];
	unsigned int npool[CANARY_V_MAX];
	struct cfg_override *overrides;
	unsigned int noverrides;
	__u16 weight;		/* initial canary weight, basis points; applied when created */
	struct plan *plan;	/* "rollout": NULL when absent (no rollout engine for it) */
	struct plan_health *health;	/* "health": NULL when absent (backends never probed) */
};

struct canary_config {
	char path[PATH_MAX];
	struct cfg_iface ifaces[CFG_MAX_IFACES];
	unsigned int nifaces;
	char pin_dir[PATH_MAX];		/* "pin_dir", default CANARY_PIN_DIR */
	char state_dir[PATH_MAX];	/* "state_dir", default CANARY_STATE_DEFAULT */
	char control_socket[PATH_MAX];	/* "control": {"socket": ..., "group": ...} */
	bool control_has_group;
	gid_t control_gid;
	char exporter_listen[64];	/* "exporter": {"listen": "ADDR:PORT" | "off"} */
	bool exporter_on;
	struct sockaddr_storage exporter_addr;
	socklen_t exporter_addrlen;
	__u32 flow_entries;		/* "flow_entries": default CANARY_FLOWS_DEFAULT */
	unsigned int status_window_s;	/* "status_window": seconds that rates cover, default 10 */
	struct prom_cfg prometheus;	/* "prometheus": where prometheus checks ask */
	__u64 breaker_every_ms;		/* "breaker_every": kernel counters read this often for
					 * the breaker; default 250, 50..1000 */
	__u64 tcp_idle_ms;		/* "tcp_idle": the sweep removes TCP flows idle this
					 * long; default CANARY_IDLE_TCP_NS, 1m..168h */
	struct cfg_service *services;
	unsigned int nservices;
};

/*
 * Loads and validates @path. On error returns a negative errno and writes one line to @err that
 * names the key path and the reason, e.g.
 *   "services[1].canary[0]: port 70000 is not a port (1..65535)".
 * @cfg is then left empty (nothing to free).
 */
int config_load(const char *path, struct canary_config *cfg, char *err, size_t errlen);

/* The same, from a string (@origin names it in messages). */
int config_parse(const char *text, const char *origin, struct canary_config *cfg, char *err,
		 size_t errlen);

void config_free(struct canary_config *cfg);

/* The service called @name, or NULL. */
const struct cfg_service *config_service(const struct canary_config *cfg, const char *name);

/*
 * Weights as people write them: percent, 0..100, at most two decimals ("2.5", "100", "0.01").
 * Returns 0 and basis points in @bp, or -EINVAL (with the reason in @err) and leaves @bp alone.
 */
int weight_parse(const char *text, __u16 *bp, char *err, size_t errlen);

/* Basis points as percent with two decimals ("2.50"); @buf holds 8 bytes. */
const char *weight_format(__u16 bp, char *buf, size_t len);

/* "ADDR:PORT", IPv6 as "[ADDR]:PORT"; without a port, @dflt_port (0: a port is required). */
int endpoint_parse(const char *text, __u16 dflt_port, __u8 addr[16], __u16 *port);

#endif /* XDP_CANARY_CONFIG_H */
