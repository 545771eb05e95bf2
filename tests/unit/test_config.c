// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The configuration file: a full config, the defaults, and a table of bad configs with the exact
 * one-line message each must give. JSON below is written with single quotes, for readability;
 * json() turns them into double quotes before parsing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "addr.h"
#include "config.h"

#define ERRLEN 512

static char *json(const char *text)
{
	char *s = strdup(text);

	assert_non_null(s);
	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	return s;
}

static int parse(const char *text, struct canary_config *cfg, char *err)
{
	char *s = json(text);
	int ret;

	ret = config_parse(s, "test.json", cfg, err, ERRLEN);
	free(s);
	return ret;
}

static void assert_zeroed(const struct canary_config *cfg)
{
	static const struct canary_config zero;

	assert_memory_equal(cfg, &zero, sizeof(zero));
}

static void assert_addr(const __u8 addr[16], const char *want)
{
	char buf[CANARY_ADDRSTRLEN];

	assert_string_equal(addr_format(addr, buf, sizeof(buf)), want);
}

static const char full_config[] =
	"{ 'pin_dir': '/sys/fs/bpf/canary-test', 'state_dir': '/tmp/canary-state',"
	"  'control': {'socket': '/run/canary-test.sock', 'group': 'root'},"
	"  'exporter': {'listen': 'off'}, 'flow_entries': 1024, 'status_window': 30,"
	"  'prometheus': {'url': 'http://127.0.0.1:9090'},"
	"  'interfaces': ['eth0', {'name': 'eth1', 'xdp': 'generic', 'tc': 'clsact'}],"
	"  'services': ["
	"    {'name': 'web', 'vip': '203.0.113.10', 'port': 80, 'protocol': 'tcp',"
	"     'hash': 'client', 'http': true,"
	"     'stable': ['192.0.2.10:8080', '192.0.2.11'], 'canary': ['192.0.2.70:8080'],"
	"     'overrides': [{'prefix': '198.51.100.77/24', 'version': 'canary'},"
	"                   {'prefix': '192.0.2.99', 'version': 'stable'}],"
	"     'weight': 2.5, 'rollout': {'steps': [1, 5, 25]}},"
	"    {'name': 'dns6', 'vip': '2001:db8::53', 'port': 53, 'protocol': 'udp',"
	"     'stable': ['[2001:db8:1::1]:5353', '2001:db8:1::2'], 'canary': [],"
	"     'overrides': [{'prefix': '2001:db8:ff::/48', 'version': 'stable'}]}"
	"  ]}";

static void full_config_parses(void **state)
{
	static const __u8 vip4[16] = { [10] = 0xff, [11] = 0xff, 203, 0, 113, 10 };
	const struct cfg_service *web, *dns;
	struct canary_config cfg;
	char err[ERRLEN] = "";

	(void)state;
	assert_int_equal(parse(full_config, &cfg, err), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.path, "test.json");
	assert_string_equal(cfg.pin_dir, "/sys/fs/bpf/canary-test");
	assert_string_equal(cfg.state_dir, "/tmp/canary-state");
	assert_string_equal(cfg.control_socket, "/run/canary-test.sock");
	assert_true(cfg.control_has_group);
	assert_int_equal(cfg.control_gid, 0);
	assert_false(cfg.exporter_on);
	assert_int_equal(cfg.flow_entries, 1024);
	assert_int_equal(cfg.status_window_s, 30);
	assert_true(cfg.prometheus.set);

	assert_int_equal(cfg.nifaces, 2);
	assert_string_equal(cfg.ifaces[0].name, "eth0");
	assert_int_equal(cfg.ifaces[0].xdp, CFG_XDP_AUTO);
	assert_int_equal(cfg.ifaces[0].tc, CFG_TC_OFF);
	assert_string_equal(cfg.ifaces[1].name, "eth1");
	assert_int_equal(cfg.ifaces[1].xdp, CFG_XDP_GENERIC);
	assert_int_equal(cfg.ifaces[1].tc, CFG_TC_CLSACT);

	assert_int_equal(cfg.nservices, 2);
	web = config_service(&cfg, "web");
	assert_ptr_equal(web, &cfg.services[0]);
	assert_memory_equal(web->key.addr, vip4, 16);
	assert_int_equal(web->key.port, 80);
	assert_int_equal(web->key.proto, IPPROTO_TCP);
	assert_int_equal(web->key.pad, 0);
	assert_int_equal(web->mode, CANARY_HASH_CLIENT);
	assert_true(web->http);
	assert_int_equal(web->npool[CANARY_V_STABLE], 2);
	assert_addr(web->pool[CANARY_V_STABLE][0].addr, "192.0.2.10");
	assert_int_equal(web->pool[CANARY_V_STABLE][0].port, 8080);
	assert_addr(web->pool[CANARY_V_STABLE][1].addr, "192.0.2.11");
	assert_int_equal(web->pool[CANARY_V_STABLE][1].port, 80);
	assert_int_equal(web->npool[CANARY_V_CANARY], 1);
	assert_addr(web->pool[CANARY_V_CANARY][0].addr, "192.0.2.70");
	assert_int_equal(web->pool[CANARY_V_CANARY][0].port, 8080);
	assert_int_equal(web->noverrides, 2);
	assert_addr(web->overrides[0].addr, "198.51.100.0");
	assert_int_equal(web->overrides[0].plen, 120);
	assert_int_equal(web->overrides[0].version, CANARY_V_CANARY);
	assert_addr(web->overrides[1].addr, "192.0.2.99");
	assert_int_equal(web->overrides[1].plen, 128);
	assert_int_equal(web->overrides[1].version, CANARY_V_STABLE);
	assert_int_equal(web->weight, 250);

	dns = config_service(&cfg, "dns6");
	assert_ptr_equal(dns, &cfg.services[1]);
	assert_addr(dns->key.addr, "2001:db8::53");
	assert_int_equal(dns->key.port, 53);
	assert_int_equal(dns->key.proto, IPPROTO_UDP);
	assert_int_equal(dns->mode, CANARY_HASH_FLOW);
	assert_false(dns->http);
	assert_int_equal(dns->npool[CANARY_V_STABLE], 2);
	assert_addr(dns->pool[CANARY_V_STABLE][0].addr, "2001:db8:1::1");
	assert_int_equal(dns->pool[CANARY_V_STABLE][0].port, 5353);
	assert_addr(dns->pool[CANARY_V_STABLE][1].addr, "2001:db8:1::2");
	assert_int_equal(dns->pool[CANARY_V_STABLE][1].port, 53);
	assert_int_equal(dns->npool[CANARY_V_CANARY], 0);
	assert_int_equal(dns->noverrides, 1);
	assert_int_equal(dns->overrides[0].plen, 48);
	assert_int_equal(dns->weight, 0);
	assert_null(dns->plan);
	assert_null(config_service(&cfg, "nope"));

	config_free(&cfg);
	assert_zeroed(&cfg);
	config_free(&cfg);
}

static void defaults_when_absent(void **state)
{
	const struct sockaddr_in *sin;
	struct canary_config cfg;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse("{'interfaces': ['eth0'], 'services': []}", &cfg, err), 0);
	assert_string_equal(cfg.pin_dir, CANARY_PIN_DIR);
	assert_string_equal(cfg.state_dir, CANARY_STATE_DEFAULT);
	assert_string_equal(cfg.control_socket, CANARY_SOCKET_DEFAULT);
	assert_false(cfg.control_has_group);
	assert_true(cfg.exporter_on);
	assert_string_equal(cfg.exporter_listen, CANARY_EXPORTER_DEFAULT);
	sin = (const struct sockaddr_in *)&cfg.exporter_addr;
	assert_int_equal(cfg.exporter_addrlen, sizeof(*sin));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 9435);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(cfg.flow_entries, CANARY_FLOWS_DEFAULT);
	assert_int_equal(cfg.status_window_s, 10);
	assert_false(cfg.prometheus.set);
	assert_int_equal(cfg.nservices, 0);
	assert_null(cfg.services);
	config_free(&cfg);
}

static void exporter_v6(void **state)
{
	static const struct in6_addr lo = IN6ADDR_LOOPBACK_INIT;
	const struct sockaddr_in6 *sin6;
	struct canary_config cfg;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse("{'exporter': {'listen': '[::1]:9100'}, 'interfaces': ['lo'],"
			       " 'services': []}", &cfg, err), 0);
	assert_true(cfg.exporter_on);
	assert_string_equal(cfg.exporter_listen, "[::1]:9100");
	sin6 = (const struct sockaddr_in6 *)&cfg.exporter_addr;
	assert_int_equal(cfg.exporter_addrlen, sizeof(*sin6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 9100);
	assert_memory_equal(&sin6->sin6_addr, &lo, sizeof(lo));
	config_free(&cfg);
}

struct bad {
	const char *json;
	const char *msg;
};

#define IFACES	"'interfaces': ['eth0']"
#define CFG(svcs)	"{" IFACES ", 'services': [" svcs "]}"
#define NAMEVIP	"'name': 'web', 'vip': '203.0.113.10'"
#define POOLS	"'stable': ['192.0.2.10'], 'canary': []"
#define WEB	"{" NAMEVIP ", 'port': 80, " POOLS
#define WEB_C	"{" NAMEVIP ", 'port': 80, 'stable': ['192.0.2.10'], 'canary': ['192.0.2.70']"
#define API	"{'name': 'api', 'vip': '203.0.113.20', 'port': 80, " POOLS "}"
#define BE8	"'192.0.2.1', '192.0.2.1', '192.0.2.1', '192.0.2.1', " \
		"'192.0.2.1', '192.0.2.1', '192.0.2.1', '192.0.2.1'"
#define BE64	BE8 ", " BE8 ", " BE8 ", " BE8 ", " BE8 ", " BE8 ", " BE8 ", " BE8
#define NAME64	"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl"

static const struct bad bad_configs[] = {
	/* Syntax, and what is not a config at all. */
	{ "", "test.json: empty, expected a JSON object" },
	{ " \n\t\n", "test.json: empty, expected a JSON object" },
	{ "{\n  " IFACES ",\n  'services': [,]\n}",
	  "test.json:3:16: unexpected token near ','" },
	{ "{" IFACES ", 'services': [], 'services': []}",
	  "test.json:1:51: duplicate object key near '\"services\"'" },
	{ "[]", "expected a JSON object at the top level" },
	/* Unknown keys, at each level. */
	{ "{" IFACES ", 'services': [], 'flow_entires': 4096}", "unknown key \"flow_entires\"" },
	{ CFG(WEB ", 'wieght': 5}"), "services[0]: unknown key \"wieght\"" },
	{ "{'interfaces': [{'name': 'eth0', 'mode': 'native'}], 'services': []}",
	  "interfaces[0]: unknown key \"mode\"" },
	{ "{'control': {'sock': '/x'}, " IFACES ", 'services': []}",
	  "control: unknown key \"sock\"" },
	{ "{'exporter': {'port': 9435}, " IFACES ", 'services': []}",
	  "exporter: unknown key \"port\"" },
	{ CFG(WEB ", 'overrides': [{'prefix': '198.51.100.0/24', 'versoin': 'canary'}]}"),
	  "services[0].overrides[0]: unknown key \"versoin\"" },
	/* Globals. */
	{ "{'pin_dir': 5, " IFACES ", 'services': []}", "pin_dir: expected a string" },
	{ "{'state_dir': 'var/lib', " IFACES ", 'services': []}",
	  "state_dir: \"var/lib\" is not an absolute path" },
	{ "{'control': {'socket': 'canaryd.sock'}, " IFACES ", 'services': []}",
	  "control.socket: \"canaryd.sock\" is not an absolute path" },
	{ "{'control': {'group': 'nosuch'}, " IFACES ", 'services': []}",
	  "control.group: no group \"nosuch\"" },
	{ "{'control': '/run/x.sock', " IFACES ", 'services': []}",
	  "control: expected an object" },
	{ "{'exporter': {'listen': '127.0.0.1'}, " IFACES ", 'services': []}",
	  "exporter.listen: \"127.0.0.1\" needs a port (ADDR:PORT)" },
	{ "{'exporter': {'listen': '::1'}, " IFACES ", 'services': []}",
	  "exporter.listen: \"::1\" needs a port ([ADDR]:PORT)" },
	{ "{'exporter': {'listen': 'localhost:9435'}, " IFACES ", 'services': []}",
	  "exporter.listen: \"localhost\" is not an IPv4 or IPv6 address" },
	{ "{'flow_entries': 100, " IFACES ", 'services': []}",
	  "flow_entries: 100 is not in 1024..16777216" },
	{ "{'flow_entries': 4096.5, " IFACES ", 'services': []}",
	  "flow_entries: expected an integer" },
	{ "{'status_window': 0, " IFACES ", 'services': []}",
	  "status_window: 0 is not in 1..3600 (seconds)" },
	{ "{'prometheus': [], " IFACES ", 'services': []}", "prometheus: expected an object" },
	/* Interfaces. */
	{ "{'services': []}", "interfaces: missing" },
	{ "{'interfaces': 'eth0', 'services': []}", "interfaces: expected an array" },
	{ "{'interfaces': [], 'services': []}", "interfaces: at least one interface is needed" },
	{ "{'interfaces': ['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9', 'e10',"
	  " 'e11', 'e12', 'e13', 'e14', 'e15', 'e16'], 'services': []}",
	  "interfaces: 17 interfaces, at most 16" },
	{ "{'interfaces': [5], 'services': []}", "interfaces[0]: expected a string or an object" },
	{ "{'interfaces': ['eth0', {'name': 'eth0'}], 'services': []}",
	  "interfaces[1].name: \"eth0\" is listed in interfaces[0] too" },
	{ "{'interfaces': ['abcdefghijklmnop'], 'services': []}",
	  "interfaces[0]: \"abcdefghijklmnop\" is longer than 15 characters" },
	{ "{'interfaces': ['eth/0'], 'services': []}",
	  "interfaces[0]: \"eth/0\" is not an interface name" },
	{ "{'interfaces': [{'xdp': 'native'}], 'services': []}", "interfaces[0].name: missing" },
	{ "{'interfaces': [{'name': 'eth0', 'xdp': 'fast'}], 'services': []}",
	  "interfaces[0].xdp: \"fast\" is not auto, native, generic or off" },
	{ "{'interfaces': [{'name': 'eth0', 'tc': 'tcx'}], 'services': []}",
	  "interfaces[0].tc: \"tcx\" is not off, auto or clsact" },
	/* A service's own keys. */
	{ "{" IFACES "}", "services: missing" },
	{ "{" IFACES ", 'services': {}}", "services: expected an array" },
	{ CFG("5"), "services[0]: expected an object" },
	{ CFG("{'vip': '203.0.113.10', 'port': 80, " POOLS "}"), "services[0].name: missing" },
	{ CFG("{'name': '', 'vip': '203.0.113.10', 'port': 80, " POOLS "}"),
	  "services[0].name: must not be empty" },
	{ CFG("{'name': 'web prod', 'vip': '203.0.113.10', 'port': 80, " POOLS "}"),
	  "services[0].name: \"web prod\" may only hold letters, digits, \"_\", \".\" and \"-\"" },
	{ CFG("{'name': 'a\\nb', 'vip': '203.0.113.10', 'port': 80, " POOLS "}"),
	  "services[0].name: \"a\\x0ab\" may only hold letters, digits, \"_\", \".\" and \"-\"" },
	{ CFG("{'name': '" NAME64 "', 'vip': '203.0.113.10', 'port': 80, " POOLS "}"),
	  "services[0].name: \"" NAME64 "\" is longer than 63 characters" },
	{ CFG("{'name': 'web', 'port': 80, " POOLS "}"), "services[0].vip: missing" },
	{ CFG("{'name': 'web', 'vip': '10.0.0.300', 'port': 80, " POOLS "}"),
	  "services[0].vip: \"10.0.0.300\" is not an IPv4 or IPv6 address" },
	{ CFG("{" NAMEVIP ", " POOLS "}"), "services[0].port: missing" },
	{ CFG("{" NAMEVIP ", 'port': '80', " POOLS "}"), "services[0].port: expected an integer" },
	{ CFG("{" NAMEVIP ", 'port': 70000, " POOLS "}"),
	  "services[0].port: 70000 is not a port (1..65535)" },
	{ CFG("{" NAMEVIP ", 'port': 0, " POOLS "}"),
	  "services[0].port: 0 is not a port (1..65535)" },
	{ CFG(WEB ", 'protocol': 'sctp'}"), "services[0].protocol: \"sctp\" is not tcp or udp" },
	{ CFG(WEB ", 'hash': 'random'}"), "services[0].hash: \"random\" is not flow or client" },
	{ CFG(WEB ", 'http': 'yes'}"), "services[0].http: expected true or false" },
	{ CFG(WEB ", 'protocol': 'udp', 'http': true}"),
	  "services[0].http: true but the protocol is udp" },
	{ CFG(WEB ", 'rollout': []}"), "services[0].rollout: expected an object" },
	/* Pools. */
	{ CFG("{" NAMEVIP ", 'port': 80, 'canary': []}"), "services[0].stable: missing" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': ['192.0.2.10']}"),
	  "services[0].canary: missing" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': [], 'canary': []}"),
	  "services[0].stable: at least one backend is needed" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': '192.0.2.10', 'canary': []}"),
	  "services[0].stable: expected an array" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': ['192.0.2.10'], 'canary': [" BE64 ", "
	      "'192.0.2.1']}"),
	  "services[0].canary: 65 backends, at most 64" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': [8080], 'canary': []}"),
	  "services[0].stable[0]: expected a string" },
	{ CFG(API ", {" NAMEVIP ", 'port': 80, 'stable': ['192.0.2.10'],"
	      " 'canary': ['192.0.2.70:70000']}"),
	  "services[1].canary[0]: port 70000 is not a port (1..65535)" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': ['192.0.2.10:http'], 'canary': []}"),
	  "services[0].stable[0]: port \"http\" is not a port (1..65535)" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': ['192.0.2.300:80'], 'canary': []}"),
	  "services[0].stable[0]: \"192.0.2.300\" is not an IPv4 or IPv6 address" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': ['[2001:db8::1:80'], 'canary': []}"),
	  "services[0].stable[0]: \"[2001:db8::1:80\" is not ADDR, ADDR:PORT or [ADDR]:PORT" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': ['192.0.2.10', '2001:db8::1'],"
	      " 'canary': []}"),
	  "services[0].stable[1]: 2001:db8::1 is IPv6 but the vip is IPv4" },
	{ CFG("{'name': 'v6', 'vip': '2001:db8::80', 'port': 80, 'stable': ['2001:db8::1'],"
	      " 'canary': ['192.0.2.70']}"),
	  "services[0].canary[0]: 192.0.2.70 is IPv4 but the vip is IPv6" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': ['192.0.2.10:80', '192.0.2.10'],"
	      " 'canary': []}"),
	  "services[0].stable[1]: 192.0.2.10:80 is in stable[0] too" },
	{ CFG("{" NAMEVIP ", 'port': 80, 'stable': ['203.0.113.20:8080'], 'canary': []}, " API),
	  "services[0].stable[0]: 203.0.113.20 is the vip of services[1] (\"api\")" },
	/* Overrides. */
	{ CFG(WEB ", 'overrides': {}}"), "services[0].overrides: expected an array" },
	{ CFG(WEB ", 'overrides': ['198.51.100.0/24']}"),
	  "services[0].overrides[0]: expected an object" },
	{ CFG(WEB ", 'overrides': [{'prefix': '198.51.100.0/33', 'version': 'canary'}]}"),
	  "services[0].overrides[0].prefix: \"198.51.100.0/33\" is not a prefix (ADDR/LEN)" },
	{ CFG(WEB ", 'overrides': [{'prefix': '198.51.100.0/24', 'version': 'beta'}]}"),
	  "services[0].overrides[0].version: \"beta\" is not stable or canary" },
	{ CFG(WEB ", 'overrides': [{'prefix': '198.51.100.0/24'}]}"),
	  "services[0].overrides[0].version: missing" },
	{ CFG(WEB ", 'overrides': [{'prefix': '2001:db8::/32', 'version': 'canary'}]}"),
	  "services[0].overrides[0].prefix: 2001:db8::/32 is IPv6 but the vip is IPv4" },
	{ CFG(WEB ", 'overrides': [{'prefix': '198.51.100.0/24', 'version': 'canary'},"
	      " {'prefix': '198.51.100.9/24', 'version': 'stable'}]}"),
	  "services[0].overrides[1].prefix: 198.51.100.0/24 is in overrides[0] too" },
	/* Weights. */
	{ CFG(WEB_C ", 'weight': 101}"), "services[0].weight: 101 is not a percentage (0..100)" },
	{ CFG(WEB_C ", 'weight': -0.5}"),
	  "services[0].weight: -0.5 is not a percentage (0..100)" },
	{ CFG(WEB_C ", 'weight': 2.555}"), "services[0].weight: 2.555 has more than two decimals" },
	{ CFG(WEB_C ", 'weight': '5'}"), "services[0].weight: expected a number" },
	{ CFG(WEB ", 'weight': 5}"), "services[0].weight: 5 but the canary pool is empty" },
	/* Across services. */
	{ CFG(WEB "}, " WEB "}"), "services[1].name: \"web\" is used by services[0] too" },
	{ CFG(WEB "}, " API ", {'name': 'web2', 'vip': '203.0.113.10', 'port': 80,"
	      " 'protocol': 'tcp', " POOLS "}"),
	  "services[2]: same vip, port and protocol as services[0] (\"web\")" },
};

static void bad_configs_rejected(void **state)
{
	struct canary_config cfg;
	char err[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		const struct bad *b = &bad_configs[i];

		/* Whatever was in cfg before must not matter: the parser starts afresh. */
		memset(&cfg, 0xa5, sizeof(cfg));
		err[0] = '\0';
		if (parse(b->json, &cfg, err) != -EINVAL || strcmp(err, b->msg))
			print_error("bad_configs[%zu]: %s\n", i, b->json);
		assert_string_equal(err, b->msg);
		assert_null(strchr(err, '\n'));
		assert_zeroed(&cfg);
		config_free(&cfg);
	}
}

/* A 200-character name is cut in the message, which stays one short line. */
static void long_text_is_cut(void **state)
{
	const char *tail = "...\" is longer than 15 characters";
	char text[300], err[ERRLEN];
	struct canary_config cfg;
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "{'services': [], 'interfaces': ['%0200d']}", 7);
	assert_true(n < sizeof(text));
	assert_int_equal(parse(text, &cfg, err), -EINVAL);
	assert_true(strlen(err) < 128);
	assert_memory_equal(err, "interfaces[0]: \"000", 19);
	assert_string_equal(err + strlen(err) - strlen(tail), tail);
	assert_zeroed(&cfg);
}

static void same_port_other_protocol_is_fine(void **state)
{
	struct canary_config cfg;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse(CFG(WEB "}, {'name': 'web-udp', 'vip': '203.0.113.10', 'port': 80,"
				   " 'protocol': 'udp', " POOLS "}"), &cfg, err), 0);
	assert_int_equal(cfg.nservices, 2);
	config_free(&cfg);
}

static void weight_parse_good(void **state)
{
	static const struct {
		const char *text;
		__u16 bp;
	} good[] = {
		{ "0", 0 }, { "2.5", 250 }, { "0.01", 1 }, { "100", 10000 }, { "100.00", 10000 },
		{ "99.99", 9999 }, { "12.3", 1230 }, { "007", 700 }, { "50.0", 5000 },
	};
	char err[ERRLEN];
	__u16 bp;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		bp = 12345;
		assert_int_equal(weight_parse(good[i].text, &bp, err, sizeof(err)), 0);
		assert_int_equal(bp, good[i].bp);
	}
}

static void weight_parse_bad(void **state)
{
	static const struct bad bad[] = {
		{ "", "\"\" is not a number" },
		{ "abc", "\"abc\" is not a number" },
		{ "-1", "\"-1\" is not a percentage (0..100)" },
		{ "101", "\"101\" is not a percentage (0..100)" },
		{ "1000", "\"1000\" is not a percentage (0..100)" },
		{ "100.01", "\"100.01\" is not a percentage (0..100)" },
		{ "1.234", "\"1.234\" has more than two decimals" },
		{ "1.", "\"1.\" is not a number" },
		{ ".5", "\".5\" is not a number" },
		{ " 5", "\" 5\" is not a number" },
		{ "5 ", "\"5 \" is not a number" },
		{ "5%", "\"5%\" is not a number" },
		{ "1e2", "\"1e2\" is not a number" },
		{ "0x10", "\"0x10\" is not a number" },
		{ "+5", "\"+5\" is not a number" },
		{ "1.2.3", "\"1.2.3\" is not a number" },
	};
	char err[ERRLEN];
	__u16 bp;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bp = 12345;
		assert_int_equal(weight_parse(bad[i].json, &bp, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].msg);
		assert_int_equal(bp, 12345);
	}
}

static void weight_formats(void **state)
{
	char buf[8];

	(void)state;
	assert_string_equal(weight_format(250, buf, sizeof(buf)), "2.50");
	assert_string_equal(weight_format(10000, buf, sizeof(buf)), "100.00");
	assert_string_equal(weight_format(0, buf, sizeof(buf)), "0.00");
	assert_string_equal(weight_format(1, buf, sizeof(buf)), "0.01");
}

static void endpoints(void **state)
{
	static const char *const bad[] = { "192.0.2.1", "192.0.2.1:0", "192.0.2.1:65536",
					   "192.0.2.1:80x", "192.0.2.1:", "[2001:db8::1",
					   "[2001:db8::1]80", ":80", "2001:db8::1", "host:80" };
	__u16 port;
	__u8 addr[16];

	(void)state;
	assert_int_equal(endpoint_parse("192.0.2.1:8080", 0, addr, &port), 0);
	assert_addr(addr, "192.0.2.1");
	assert_int_equal(port, 8080);
	assert_int_equal(endpoint_parse("[2001:db8::1]:443", 0, addr, &port), 0);
	assert_addr(addr, "2001:db8::1");
	assert_int_equal(port, 443);
	assert_int_equal(endpoint_parse("2001:db8::2", 8443, addr, &port), 0);
	assert_addr(addr, "2001:db8::2");
	assert_int_equal(port, 8443);
	assert_int_equal(endpoint_parse("[2001:db8::3]", 53, addr, &port), 0);
	assert_int_equal(port, 53);
	assert_int_equal(endpoint_parse("192.0.2.1", 80, addr, &port), 0);
	assert_int_equal(port, 80);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(endpoint_parse(bad[i], 0, addr, &port), -EINVAL);
}

/* A file under /tmp holding @text; its name in @path. */
static void write_temp(char *path, size_t len, const char *text)
{
	char *s = json(text);
	FILE *f;
	int fd;

	snprintf(path, len, "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fputs(s, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(s);
}

static void load_files(void **state)
{
	char path[64], want[ERRLEN], err[ERRLEN];
	struct canary_config cfg;

	(void)state;
	assert_int_equal(config_load("/nonexistent/canaryd.json", &cfg, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/canaryd.json: No such file or directory");
	assert_zeroed(&cfg);

	assert_int_equal(config_load("/tmp", &cfg, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "/tmp: Is a directory");
	assert_zeroed(&cfg);

	write_temp(path, sizeof(path), full_config);
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.path, path);
	assert_int_equal(cfg.nservices, 2);
	assert_int_equal(config_service(&cfg, "web")->weight, 250);
	config_free(&cfg);
	assert_int_equal(unlink(path), 0);

	write_temp(path, sizeof(path), "{\n" IFACES ",\n'services': [}\n");
	assert_int_equal(config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3:14: unexpected token near '}'", path);
	assert_string_equal(err, want);
	assert_zeroed(&cfg);
	assert_int_equal(unlink(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_config_parses),
		cmocka_unit_test(defaults_when_absent),
		cmocka_unit_test(exporter_v6),
		cmocka_unit_test(bad_configs_rejected),
		cmocka_unit_test(long_text_is_cut),
		cmocka_unit_test(same_port_other_protocol_is_fine),
		cmocka_unit_test(weight_parse_good),
		cmocka_unit_test(weight_parse_bad),
		cmocka_unit_test(weight_formats),
		cmocka_unit_test(endpoints),
		cmocka_unit_test(load_files),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
