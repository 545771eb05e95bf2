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
	"  'interfaces': ['eth0', {'name': 'eth1', 'xdp': 'generic', 'tc': 'clsact'},"
	"                 {'name': 'veth7', 'hook': 'auto', 'other_host': 'drop'}],"
	"  'services': ["
	"    {'name': 'web', 'vip': '203.0.113.10', 'port': 80, 'protocol': 'tcp',"
	"     'hash': 'client', 'http': true,"
	"     'stable': ['192.0.2.10:8080', '192.0.2.11'], 'canary': ['192.0.2.70:8080'],"
	"     'overrides': [{'prefix': '198.51.100.77/24', 'version': 'canary'},"
	"                   {'prefix': '192.0.2.99', 'version': 'stable'}],"
	"     'weight': 2.5, 'rollout': {'stages': [1, 5, 25]}},"
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

	assert_int_equal(cfg.nifaces, 3);
	assert_string_equal(cfg.ifaces[0].name, "eth0");
	assert_int_equal(cfg.ifaces[0].hook, CFG_HOOK_XDP);
	assert_int_equal(cfg.ifaces[0].xdp, CFG_XDP_AUTO);
	assert_int_equal(cfg.ifaces[0].tc, CFG_TC_OFF);
	assert_false(cfg.ifaces[0].drop_other_host);
	assert_int_equal(cfg.ifaces[2].hook, CFG_HOOK_AUTO);
	assert_true(cfg.ifaces[2].drop_other_host);
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
	assert_non_null(web->plan);
	assert_int_equal(web->plan->nstages, 3);
	assert_int_equal(web->plan->stages[2].weight, 2500);
	assert_null(web->health);

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
	assert_int_equal(cfg.breaker_every_ms, 250);
	assert_int_equal(cfg.tcp_idle_ms * 1000000, CANARY_IDLE_TCP_NS);
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
#define PROM	"'prometheus': {'url': 'http://127.0.0.1:9090'}, "
#define PROM_WITH(keys)	"{'prometheus': {'url': 'http://127.0.0.1:9090', " keys "}, " IFACES \
			", 'services': []}"
#define RO(keys)	CFG(WEB_C ", 'rollout': {" keys "}}")
#define ROH(keys)	CFG(WEB_C ", 'http': true, 'rollout': {" keys "}}")
/* Service sN at port 1N, with the backend 192.0.2.10:80 that they all share. */
#define SHARED(n)	"{'name': 's" #n "', 'vip': '203.0.113.10', 'port': 1" #n ", " \
			"'stable': ['192.0.2.10:80'], 'canary': []}"
/* As many services as the datapath can map one backend to (CANARY_BE_SVC_MAX), all on one. */
#define EIGHT_SHARED	SHARED(0) ", " SHARED(1) ", " SHARED(2) ", " SHARED(3) ", " SHARED(4) \
			", " SHARED(5) ", " SHARED(6) ", " SHARED(7)
#define ALREADY_EIGHT	"\"s0\", \"s1\", \"s2\", \"s3\", \"s4\", \"s5\", \"s6\", \"s7\""
#define PRO(keys)	"{" PROM IFACES ", 'services': [" WEB_C ", 'rollout': {" keys "}}]}"
#define KCHECK(rule)	"{'name': 'e', 'source': 'kernel', 'metric': 'error_ratio', " rule "}"
#define PCHECK(rule)	"{'name': 'p', 'source': 'prometheus', 'query': 'up', " rule "}"

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
	{ "{'interfaces': [{'name': 'eth0', 'hook': 'tcx'}], 'services': []}",
	  "interfaces[0].hook: \"tcx\" is not xdp, tc or auto" },
	{ "{'interfaces': [{'name': 'eth0', 'hook': 'tc', 'xdp': 'native'}], 'services': []}",
	  "interfaces[0].hook: \"tc\" runs no XDP on eth0: leave out \"xdp\"" },
	{ "{'interfaces': [{'name': 'eth0', 'hook': 'auto', 'xdp': 'off'}], 'services': []}",
	  "interfaces[0].hook: \"xdp\": \"off\" runs no forward program on eth0: leave out "
	  "\"hook\", or \"xdp\"" },
	{ "{'interfaces': [{'name': 'eth0', 'other_host': 'forward'}], 'services': []}",
	  "interfaces[0].other_host: \"forward\" is not pass or drop" },
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
	  "services[2]: same vip, port and protocol as services[0] (\"web\")" },	/* The rollout engine: top-level keys. */
	{ "{'prometheus': {}, " IFACES ", 'services': []}", "prometheus.url: missing" },
	{ "{'prometheus': {'url': 'localhost:9090'}, " IFACES ", 'services': []}",
	  "prometheus.url: \"localhost:9090\" is not an http:// or https:// URL" },
	{ "{'prometheus': {'url': 'http://'}, " IFACES ", 'services': []}",
	  "prometheus.url: \"http://\" has no host" },
	{ "{'prometheus': {'url': 'http://p:9090/?x=1'}, " IFACES ", 'services': []}",
	  "prometheus.url: \"http://p:9090/?x=1\": a base URL takes no query or fragment" },
	{ "{'prometheus': {'url': 'http://p 9090'}, " IFACES ", 'services': []}",
	  "prometheus.url: \"http://p 9090\" holds a space or a control character" },
	{ PROM_WITH("'timeout': '2m'"), "prometheus.timeout: 2m is not in 100ms..1m" },
	{ PROM_WITH("'bearer_token_file': 'token'"),
	  "prometheus.bearer_token_file: \"token\" is not an absolute path" },
	{ PROM_WITH("'bearer_token_file': '/nonexistent/token'"),
	  "prometheus.bearer_token_file: \"/nonexistent/token\": No such file or directory" },
	{ PROM_WITH("'ca_file': '/'"), "prometheus.ca_file: \"/\" is a directory" },
	{ PROM_WITH("'insecure': 'yes'"), "prometheus.insecure: expected true or false" },
	{ PROM_WITH("'token': '/x'"), "prometheus: unknown key \"token\"" },
	{ "{'breaker_every': '10ms', " IFACES ", 'services': []}",
	  "breaker_every: 10ms is not in 50ms..1s" },
	{ "{'breaker_every': 2, " IFACES ", 'services': []}", "breaker_every: 2s is not in 50ms..1s" },
	{ "{'tcp_idle': '30s', " IFACES ", 'services': []}", "tcp_idle: 30s is not in 1m..168h" },
	{ "{'tcp_idle': 59, " IFACES ", 'services': []}", "tcp_idle: 59s is not in 1m..168h" },
	{ "{'tcp_idle': '169h', " IFACES ", 'services': []}", "tcp_idle: 169h is not in 1m..168h" },
	{ "{'tcp_idle': 'soon', " IFACES ", 'services': []}",
	  "tcp_idle: \"soon\" is not a duration such as 250ms, 30s, 5m or 1h" },
	{ "{'tcp_idle': '2', " IFACES ", 'services': []}",
	  "tcp_idle: \"2\" needs a unit: ms, s, m or h" },
	{ "{'tcp_idle': true, " IFACES ", 'services': []}",
	  "tcp_idle: expected a string or a number" },
	/* A backend can serve at most CANARY_BE_SVC_MAX services. */
	{ CFG(EIGHT_SHARED ", " SHARED(8)),
	  "services[8].stable[0]: 192.0.2.10:80 is in more than 8 services' pools, the most the "
	  "datapath can map a backend to (already in " ALREADY_EIGHT ")" },
	{ CFG(EIGHT_SHARED ", "
	      "{'name': 's8', 'vip': '203.0.113.10', 'port': 18, 'stable': ['192.0.2.11'],"
	      " 'canary': ['192.0.2.10:80']}"),
	  "services[8].canary[0]: 192.0.2.10:80 is in more than 8 services' pools, the most the "
	  "datapath can map a backend to (already in " ALREADY_EIGHT ")" },
	/* Durations, as any duration key reads them. */
	{ RO("'interval': '5'"), "services[0].rollout.interval: \"5\" needs a unit: ms, s, m or h" },
	{ RO("'interval': '-1s'"), "services[0].rollout.interval: \"-1s\" is negative" },
	{ RO("'interval': '1x'"),
	  "services[0].rollout.interval: \"1x\" is not a duration such as 250ms, 30s, 5m or 1h" },
	{ RO("'interval': '30m1h'"),
	  "services[0].rollout.interval: \"30m1h\" is not a duration such as 250ms, 30s, 5m or 1h" },
	{ RO("'interval': '1.0005s'"),
	  "services[0].rollout.interval: \"1.0005s\" is finer than a millisecond" },
	{ RO("'interval': '500ms'"), "services[0].rollout.interval: 500ms is not in 1s..1h" },
	{ RO("'interval': 0.5"), "services[0].rollout.interval: 500ms is not in 1s..1h" },
	{ RO("'interval': '2h'"), "services[0].rollout.interval: 2h is not in 1s..1h" },
	{ RO("'interval': 7200"), "services[0].rollout.interval: 2h is not in 1s..1h" },
	{ RO("'interval': 1e20"), "services[0].rollout.interval: 1e+20 is too long" },
	{ RO("'interval': -1"), "services[0].rollout.interval: -1 is negative" },
	{ RO("'interval': true"), "services[0].rollout.interval: expected a string or a number" },
	/* The plan's own keys. */
	{ RO("'steps': [1, 5]"), "services[0].rollout: unknown key \"steps\"" },
	{ RO("'failure_limit': 0"), "services[0].rollout.failure_limit: 0 is not in 1..100" },
	{ RO("'max_hold': '10s'"),
	  "services[0].rollout.max_hold: 10s is shorter than the interval (30s)" },
	{ RO("'on_max_hold': 'stop'"),
	  "services[0].rollout.on_max_hold: \"stop\" is not pause or rollback" },
	/* Stages. */
	{ RO("'stages': [{'weight': 101}]"),
	  "services[0].rollout.stages[0].weight: 101 is not a percentage (0..100)" },
	{ RO("'stages': [{'weight': 'abc'}]"),
	  "services[0].rollout.stages[0].weight: \"abc\" is not a number" },
	{ RO("'stages': [{'weight': 2.555}]"),
	  "services[0].rollout.stages[0].weight: 2.555 has more than two decimals" },
	{ RO("'stages': [1, 25, 5]"),
	  "services[0].rollout.stages[2]: 5 is not above stages[1].weight (25)" },
	{ RO("'stages': [{'weight': 2.5}, {'weight': '2.50'}]"),
	  "services[0].rollout.stages[1].weight: 2.5 is not above stages[0].weight (2.5)" },
	{ RO("'stages': [0, 5]"), "services[0].rollout.stages[0]: must be above 0" },
	{ RO("'stages': []"), "services[0].rollout.stages: at least one stage is needed" },
	{ RO("'stages': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]"),
	  "services[0].rollout.stages: 17 stages, at most 16" },
	{ RO("'stages': [true]"), "services[0].rollout.stages[0]: expected an object or a weight" },
	{ RO("'stages': [{'hold': '1m'}]"), "services[0].rollout.stages[0].weight: missing" },
	{ RO("'stages': [{'weight': 5, 'hold': '10s'}]"),
	  "services[0].rollout.stages[0].hold: 10s is shorter than the interval (30s)" },
	{ RO("'stages': [{'weight': 5, 'wait': '1m'}]"),
	  "services[0].rollout.stages[0]: unknown key \"wait\"" },
	{ RO("'stages': [{'weight': 5, 'manual': 1}]"),
	  "services[0].rollout.stages[0].manual: expected true or false" },
	/* Warm-up. */
	{ RO("'warmup': {'weight': 1, 'duration': '1m'}"),
	  "services[0].rollout.warmup.weight: 1 is not below stages[0].weight (1)" },
	{ RO("'warmup': {'weight': 0.5}"), "services[0].rollout.warmup.duration: missing" },
	{ RO("'warmup': {'weight': 0, 'duration': '0s'}"),
	  "services[0].rollout.warmup.duration: 0s is not in 1s..168h" },
	/* Checks. */
	{ RO("'checks': {}"), "services[0].rollout.checks: expected an array" },
	{ RO("'checks': [" KCHECK("'max': 0.1") ", " KCHECK("'max': 0.2") "]"),
	  "services[0].rollout.checks[1].name: \"e\" is used by checks[0] too" },
	{ RO("'checks': [{'name': 'a b', 'source': 'kernel'}]"),
	  "services[0].rollout.checks[0].name: \"a b\" may only hold letters, digits, \"_\", \".\""
	  " and \"-\"" },
	{ RO("'checks': [{'name': 'e', 'metric': 'error_ratio', 'max': 0.1}]"),
	  "services[0].rollout.checks[0].source: missing" },
	{ RO("'checks': [{'name': 'e', 'source': 'graphite'}]"),
	  "services[0].rollout.checks[0].source: \"graphite\" is not prometheus or kernel" },
	{ RO("'checks': [{'name': 'e', 'source': 'kernel', 'metric': 'error_rate', 'max': 0.1}]"),
	  "services[0].rollout.checks[0].metric: \"error_rate\" is not error_ratio, handshake_p95,"
	  " handshake_p99, ttfb_p95 or ttfb_p99" },
	{ RO("'checks': [{'name': 'e', 'source': 'kernel', 'max': 0.1}]"),
	  "services[0].rollout.checks[0].metric: missing" },
	{ RO("'checks': [{'name': 'e', 'source': 'kernel', 'metric': 'ttfb_p95', 'max': 0.5}]"),
	  "services[0].rollout.checks[0].metric: \"ttfb_p95\" needs \"http\": true on the service" },
	{ RO("'checks': [" KCHECK("'kinds': ['http_5xx'], 'max': 0.1") "]"),
	  "services[0].rollout.checks[0].kinds[0]: \"http_5xx\" needs \"http\": true on the"
	  " service" },
	{ ROH("'checks': [" KCHECK("'kinds': ['refused', 'http_5xx'], 'max': 0.1") "]"),
	  "services[0].rollout.checks[0].kinds[1]: \"http_5xx\" is a share of HTTP responses,"
	  " \"refused\" of new flows: use one check for each" },
	{ RO("'checks': [" KCHECK("'kinds': ['reset', 'no_backend'], 'max': 0.1") "]"),
	  "services[0].rollout.checks[0].kinds[1]: \"no_backend\" is a share of packets,"
	  " \"reset\" of new flows: use one check for each" },
	{ RO("'checks': [" KCHECK("'kinds': ['timeout'], 'max': 0.1") "]"),
	  "services[0].rollout.checks[0].kinds[0]: \"timeout\" is not refused, reset, syn_timeout,"
	  " unreachable, no_backend, http_5xx or http_4xx" },
	{ RO("'checks': [" KCHECK("'kinds': ['reset', 'reset'], 'max': 0.1") "]"),
	  "services[0].rollout.checks[0].kinds[1]: \"reset\" is listed twice" },
	{ RO("'checks': [" KCHECK("'kinds': [], 'max': 0.1") "]"),
	  "services[0].rollout.checks[0].kinds: must not be empty" },
	{ RO("'checks': [{'name': 'e', 'source': 'kernel', 'metric': 'handshake_p95',"
	     " 'kinds': ['reset'], 'max': 0.1}]"),
	  "services[0].rollout.checks[0].kinds: only for the error_ratio metric" },
	{ RO("'checks': [" KCHECK("'query': 'up', 'max': 0.1") "]"),
	  "services[0].rollout.checks[0].query: only for a prometheus check" },
	{ RO("'checks': [" KCHECK("'min_samples': 10") "]"),
	  "services[0].rollout.checks[0]: needs a rule: max, min, max_ratio or max_delta" },
	{ RO("'checks': [" KCHECK("'max': 5") "]"),
	  "services[0].rollout.checks[0].max: 5 is not a ratio (0..1)" },
	{ RO("'checks': [" KCHECK("'max': 0.1, 'min': 0.5") "]"),
	  "services[0].rollout.checks[0].min: 0.5 is above max (0.1)" },
	{ RO("'checks': [" KCHECK("'max_ratio': 0") "]"),
	  "services[0].rollout.checks[0].max_ratio: 0 is not above 0" },
	{ RO("'checks': [" KCHECK("'max_delta': -0.1") "]"),
	  "services[0].rollout.checks[0].max_delta: -0.1 is negative" },
	{ RO("'checks': [" KCHECK("'max': '0.1'") "]"),
	  "services[0].rollout.checks[0].max: expected a number" },
	{ RO("'checks': [" KCHECK("'max': 0.1, 'min_samples': -1") "]"),
	  "services[0].rollout.checks[0].min_samples: -1 is negative" },
	{ RO("'checks': [" KCHECK("'max': 0.1, 'on_no_data': 'skip'") "]"),
	  "services[0].rollout.checks[0].on_no_data: \"skip\" is not hold, fail or pass" },
	{ RO("'checks': [" KCHECK("'max': 0.1, 'critical': 'yes'") "]"),
	  "services[0].rollout.checks[0].critical: expected true or false" },
	{ RO("'checks': [" KCHECK("'max': 0.1, 'rule': 'max'") "]"),
	  "services[0].rollout.checks[0]: unknown key \"rule\"" },
	{ RO("'checks': [" KCHECK("'max': 0.1") ", " PCHECK("'max': 1") "]"),
	  "services[0].rollout.checks[1]: a prometheus check needs the top-level \"prometheus\""
	  " object" },
	{ PRO("'checks': [{'name': 'p', 'source': 'prometheus', 'max': 1}]"),
	  "services[0].rollout.checks[0].query: missing" },
	{ PRO("'checks': [" PCHECK("'max': 1, 'samples_query': ''") "]"),
	  "services[0].rollout.checks[0].samples_query: must not be empty" },
	{ PRO("'checks': [" PCHECK("'metric': 'error_ratio', 'max': 1") "]"),
	  "services[0].rollout.checks[0].metric: only for a kernel check" },
	{ PRO("'checks': [" PCHECK("'max': 1, 'min_samples': 10") "]"),
	  "services[0].rollout.checks[0].min_samples: only for a check with \"samples_query\"" },
	/* Rollback, breaker, webhooks. */
	{ RO("'rollback': {'mode': 'slow'}"),
	  "services[0].rollout.rollback.mode: \"slow\" is not instant or gradual" },
	{ RO("'rollback': {'step': 10}"),
	  "services[0].rollout.rollback.step: only for \"mode\": \"gradual\"" },
	{ RO("'rollback': {'mode': 'gradual', 'step': 0}"),
	  "services[0].rollout.rollback.step: must be above 0" },
	{ RO("'rollback': {'mode': 'gradual', 'every': '50ms'}"),
	  "services[0].rollout.rollback.every: 50ms is not in 100ms..1h" },
	{ RO("'breaker': 'off'"), "services[0].rollout.breaker: expected true, false or an object" },
	{ RO("'breaker': {'ratio': 0.5}"), "services[0].rollout.breaker: unknown key \"ratio\"" },
	{ RO("'breaker': {'window': '100ms'}"),
	  "services[0].rollout.breaker.window: 100ms is not in 250ms..1m" },
	{ RO("'breaker': {'max_error_ratio': 0}"),
	  "services[0].rollout.breaker.max_error_ratio: 0 is not above 0 and at most 1" },
	{ RO("'breaker': {'min_samples': 0}"),
	  "services[0].rollout.breaker.min_samples: 0 is not in 1..1000000000" },
	{ RO("'breaker': {'kinds': ['reset', 'http_5xx']}"),
	  "services[0].rollout.breaker.kinds[1]: \"http_5xx\" needs \"http\": true on the service" },
	{ RO("'webhooks': [{'url': 'ftp://hooks.example/x'}]"),
	  "services[0].rollout.webhooks[0].url: \"ftp://hooks.example/x\" is not an http:// or"
	  " https:// URL" },
	{ RO("'webhooks': [{'events': ['paused']}]"),
	  "services[0].rollout.webhooks[0].url: missing" },
	{ RO("'webhooks': [{'url': 'http://h/', 'events': ['paused', 'failed']}]"),
	  "services[0].rollout.webhooks[0].events[1]: \"failed\" is not started, advanced,"
	  " promoted, paused, resumed, rolled_back or completed" },
	{ RO("'webhooks': [{'url': 'http://h/', 'timeout': '1m'}]"),
	  "services[0].rollout.webhooks[0].timeout: 1m is not in 100ms..30s" },
	{ RO("'webhooks': [{'url': 'http://h/'}, {'url': 'http://h/'}, {'url': 'http://h/'},"
	     " {'url': 'http://h/'}, {'url': 'http://h/'}]"),
	  "services[0].rollout.webhooks: 5 webhooks, at most 4" },
	/* Health. */
	{ CFG(WEB ", 'protocol': 'udp', 'health': {'type': 'http'}}"),
	  "services[0].health: health checks need a TCP service" },
	{ CFG(WEB ", 'protocol': 'udp', 'health': {}}"),
	  "services[0].health: health checks need a TCP service" },
	{ CFG(WEB ", 'health': {'type': 'icmp'}}"),
	  "services[0].health.type: \"icmp\" is not tcp or http" },
	{ CFG(WEB ", 'health': {'path': '/healthz'}}"),
	  "services[0].health.path: only for \"type\": \"http\"" },
	{ CFG(WEB ", 'health': {'type': 'http', 'path': 'healthz'}}"),
	  "services[0].health.path: \"healthz\" does not start with \"/\"" },
	{ CFG(WEB ", 'health': {'type': 'http', 'path': '/a b'}}"),
	  "services[0].health.path: \"/a b\" holds a space or a control character" },
	{ CFG(WEB ", 'health': {'every': '50ms'}}"),
	  "services[0].health.every: 50ms is not in 100ms..1h" },
	{ CFG(WEB ", 'health': {'every': '2s', 'timeout': '2s'}}"),
	  "services[0].health.timeout: 2s is not below every (2s)" },
	{ CFG(WEB ", 'health': {'fall': 0}}"), "services[0].health.fall: 0 is not in 1..100" },
	{ CFG(WEB ", 'health': {'rise': 101}}"), "services[0].health.rise: 101 is not in 1..100" },
	{ CFG(WEB ", 'health': {'port': 8080}}"), "services[0].health: unknown key \"port\"" },
};

static void bad_configs_rejected(void **state)
{
	struct canary_config cfg;
	char err[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		const struct bad *b = &bad_configs[i];
		int ret;

		/* Whatever was in cfg before must not matter: the parser starts afresh. */
		memset(&cfg, 0xa5, sizeof(cfg));
		err[0] = '\0';
		ret = parse(b->json, &cfg, err);
		if (ret != -EINVAL || strcmp(err, b->msg))
			print_error("bad_configs[%zu]: %s\n", i, b->json);
		assert_int_equal(ret, -EINVAL);
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

static void tcp_idle_parses(void **state)
{
	static const struct {
		const char *text;
		__u64 ms;
	} good[] = {
		{ "{'tcp_idle': '1m', " IFACES ", 'services': []}", 60000 },
		{ "{'tcp_idle': '2h30m', " IFACES ", 'services': []}", 9000000 },
		{ "{'tcp_idle': 600, " IFACES ", 'services': []}", 600000 },
		{ "{'tcp_idle': '168h', " IFACES ", 'services': []}", 604800000 },
	};
	struct canary_config cfg;
	char err[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse(good[i].text, &cfg, err), 0);
		assert_int_equal(cfg.tcp_idle_ms, good[i].ms);
		config_free(&cfg);
	}
}

/*
 * A backend in as many services' pools as the datapath can map it to is fine, and so is one in
 * both pools of a service (one service) or the same address at another port (another backend).
 */
static void backend_shared_up_to_the_limit(void **state)
{
	static const char *const good[] = {
		CFG(EIGHT_SHARED),
		CFG("{'name': 's0', 'vip': '203.0.113.10', 'port': 10,"
		    " 'stable': ['192.0.2.10:80'], 'canary': ['192.0.2.10:80']}, "
		    SHARED(1) ", " SHARED(2) ", " SHARED(3)),
		CFG(EIGHT_SHARED ", "
		    "{'name': 's8', 'vip': '203.0.113.10', 'port': 18,"
		    " 'stable': ['192.0.2.10:81'], 'canary': ['192.0.2.11:80']}"),
	};
	struct canary_config cfg;
	char err[ERRLEN] = "";

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (parse(good[i], &cfg, err))
			print_error("good[%zu]: %s\n", i, err);
		assert_int_equal(parse(good[i], &cfg, err), 0);
		config_free(&cfg);
	}
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

/* Every key of the rollout engine set: %s is a file that exists, for the token and the CAs. */
static const char plan_config[] =
	"{ 'prometheus': {'url': 'https://prom.example:9090/prom//', 'timeout': '2.5s',"
	"                 'bearer_token_file': '%s', 'ca_file': '%s', 'insecure': true},"
	"  'breaker_every': '100ms', 'interfaces': ['eth0'],"
	"  'services': ["
	"    {'name': 'web', 'vip': '203.0.113.10', 'port': 80, 'http': true,"
	"     'stable': ['192.0.2.10'], 'canary': ['192.0.2.70'],"
	"     'rollout': {"
	"       'stages': [0.5, {'weight': '5', 'hold': '2m'},"
	"                  {'weight': 50, 'hold': 300, 'manual': true}, {'weight': 100}],"
	"       'warmup': {'weight': 0.25, 'duration': '1m'},"
	"       'interval': '10s', 'failure_limit': 3, 'max_hold': '15m', 'on_max_hold': 'rollback',"
	"       'checks': ["
	"         {'name': '5xx', 'source': 'prometheus',"
	"          'query': 'sum(rate(errors_total{version=~$version}[$interval]))',"
	"          'samples_query': 'sum(increase(requests_total[$interval]))',"
	"          'max': 0.01, 'max_ratio': 2, 'min_samples': 200, 'on_no_data': 'fail',"
	"          'critical': true},"
	"         {'name': 'kernel.http-errors', 'source': 'kernel', 'metric': 'error_ratio',"
	"          'kinds': ['http_5xx', 'http_4xx'], 'max': 0.05, 'max_delta': 0.01,"
	"          'on_no_data': 'pass', 'dry_run': true},"
	"         {'name': 'ttfb', 'source': 'kernel', 'metric': 'ttfb_p99', 'min': 0, 'max': 0.5},"
	"         {'name': 'flows', 'source': 'kernel', 'metric': 'error_ratio', 'max': 0.02}],"
	"       'rollback': {'mode': 'gradual', 'step': 12.5, 'every': '500ms', 'hard': true},"
	"       'breaker': {'window': '2s', 'max_error_ratio': 0.5, 'min_samples': 50,"
	"                   'kinds': ['refused', 'http_5xx']},"
	"       'webhooks': [{'url': 'http://127.0.0.1:8080/hook',"
	"                     'events': ['rolled_back', 'promoted'], 'timeout': '5s'},"
	"                    {'url': 'https://hooks.example/x'}]},"
	"     'health': {'type': 'http', 'path': '/healthz?full=1', 'every': '5s',"
	"                'timeout': '1.5s', 'fall': 4, 'rise': 1}},"
	"    {'name': 'api', 'vip': '203.0.113.20', 'port': 443, 'stable': ['192.0.2.20'],"
	"     'canary': [], 'rollout': {'breaker': false}, 'health': {'every': '500ms'}}"
	"  ]}";

/* Bits over err_kinds[] (sample.c), in its order. */
#define K_REFUSED	(1U << 0)
#define K_RESET		(1U << 1)
#define K_SYN_TIMEOUT	(1U << 2)
#define K_UNREACHABLE	(1U << 3)
#define K_HTTP_5XX	(1U << 5)
#define K_HTTP_4XX	(1U << 6)
#define K_FLOWS		(K_REFUSED | K_RESET | K_SYN_TIMEOUT | K_UNREACHABLE)

static void assert_plan_checks(const struct plan *pl)
{
	const struct plan_check *ck = pl->checks;

	assert_int_equal(pl->nchecks, 4);
	assert_string_equal(ck[0].name, "5xx");
	assert_int_equal(ck[0].source, CHECK_PROMETHEUS);
	assert_string_equal(ck[0].query, "sum(rate(errors_total{version=~$version}[$interval]))");
	assert_string_equal(ck[0].samples_query, "sum(increase(requests_total[$interval]))");
	assert_int_equal(ck[0].rules, RULE_MAX | RULE_MAX_RATIO);
	assert_true(ck[0].max == 0.01 && ck[0].max_ratio == 2);
	assert_int_equal(ck[0].min_samples, 200);
	assert_int_equal(ck[0].on_no_data, NO_DATA_FAIL);
	assert_true(ck[0].critical);
	assert_false(ck[0].dry_run);

	assert_string_equal(ck[1].name, "kernel.http-errors");
	assert_int_equal(ck[1].source, CHECK_KERNEL);
	assert_string_equal(ck[1].query, "");
	assert_int_equal(ck[1].metric, KM_ERROR_RATIO);
	assert_int_equal(ck[1].kinds, K_HTTP_5XX | K_HTTP_4XX);
	assert_int_equal(ck[1].rules, RULE_MAX | RULE_MAX_DELTA);
	assert_true(ck[1].max == 0.05 && ck[1].max_delta == 0.01);
	assert_int_equal(ck[1].min_samples, 0);
	assert_int_equal(ck[1].on_no_data, NO_DATA_PASS);
	assert_false(ck[1].critical);
	assert_true(ck[1].dry_run);

	assert_int_equal(ck[2].metric, KM_TTFB_P99);
	assert_int_equal(ck[2].kinds, 0);
	assert_int_equal(ck[2].rules, RULE_MIN | RULE_MAX);
	assert_true(ck[2].min == 0 && ck[2].max == 0.5);
	assert_int_equal(ck[2].on_no_data, NO_DATA_HOLD);

	assert_int_equal(ck[3].metric, KM_ERROR_RATIO);
	assert_int_equal(ck[3].kinds, K_FLOWS);
}

static void assert_plan_full(const struct plan *pl)
{
	assert_int_equal(pl->nstages, 4);
	assert_int_equal(pl->stages[0].weight, 50);
	assert_int_equal(pl->stages[0].hold_ms, 10000);
	assert_false(pl->stages[0].manual);
	assert_int_equal(pl->stages[1].weight, 500);
	assert_int_equal(pl->stages[1].hold_ms, 120000);
	assert_int_equal(pl->stages[2].weight, 5000);
	assert_int_equal(pl->stages[2].hold_ms, 300000);
	assert_true(pl->stages[2].manual);
	assert_int_equal(pl->stages[3].weight, 10000);
	assert_int_equal(pl->stages[3].hold_ms, 10000);
	assert_int_equal(pl->warmup_bp, 25);
	assert_int_equal(pl->warmup_ms, 60000);
	assert_int_equal(pl->interval_ms, 10000);
	assert_int_equal(pl->failure_limit, 3);
	assert_int_equal(pl->max_hold_ms, 900000);
	assert_int_equal(pl->on_max_hold, MAX_HOLD_ROLLBACK);
	assert_plan_checks(pl);
	assert_int_equal(pl->rollback, ROLLBACK_GRADUAL);
	assert_int_equal(pl->rollback_step_bp, 1250);
	assert_int_equal(pl->rollback_every_ms, 500);
	assert_true(pl->rollback_hard);
	assert_true(pl->breaker.enabled);
	assert_int_equal(pl->breaker.window_ms, 2000);
	assert_true(pl->breaker.max_ratio == 0.5);
	assert_int_equal(pl->breaker.min_samples, 50);
	assert_int_equal(pl->breaker.kinds, K_REFUSED | K_HTTP_5XX);
	assert_int_equal(pl->nhooks, 2);
	assert_string_equal(pl->hooks[0].url, "http://127.0.0.1:8080/hook");
	assert_int_equal(pl->hooks[0].events, HOOK_ROLLED_BACK | HOOK_PROMOTED);
	assert_int_equal(pl->hooks[0].timeout_ms, 5000);
	assert_string_equal(pl->hooks[1].url, "https://hooks.example/x");
	assert_int_equal(pl->hooks[1].events, HOOK_ALL);
	assert_int_equal(pl->hooks[1].timeout_ms, 2000);
}

static void plan_config_parses(void **state)
{
	char token[64], text[sizeof(plan_config) + 128], err[ERRLEN] = "";
	const struct cfg_service *web, *api;
	struct canary_config cfg;

	(void)state;
	write_temp(token, sizeof(token), "secret\n");
	snprintf(text, sizeof(text), plan_config, token, token);
	assert_int_equal(parse(text, &cfg, err), 0);
	assert_string_equal(err, "");
	assert_true(cfg.prometheus.set);
	assert_string_equal(cfg.prometheus.url, "https://prom.example:9090/prom");
	assert_int_equal(cfg.prometheus.timeout_ms, 2500);
	assert_string_equal(cfg.prometheus.token_file, token);
	assert_string_equal(cfg.prometheus.ca_file, token);
	assert_true(cfg.prometheus.insecure);
	assert_int_equal(cfg.breaker_every_ms, 100);

	web = config_service(&cfg, "web");
	assert_plan_full(web->plan);
	assert_non_null(web->health);
	assert_int_equal(web->health->type, HEALTH_HTTP);
	assert_string_equal(web->health->path, "/healthz?full=1");
	assert_int_equal(web->health->every_ms, 5000);
	assert_int_equal(web->health->timeout_ms, 1500);
	assert_int_equal(web->health->fall, 4);
	assert_int_equal(web->health->rise, 1);

	/* Not http: the breaker is off, health is a TCP connect with its timeout below every. */
	api = config_service(&cfg, "api");
	assert_false(api->plan->breaker.enabled);
	assert_int_equal(api->health->type, HEALTH_TCP);
	assert_string_equal(api->health->path, "/");
	assert_int_equal(api->health->every_ms, 500);
	assert_int_equal(api->health->timeout_ms, 250);
	config_free(&cfg);
	assert_zeroed(&cfg);
	assert_int_equal(unlink(token), 0);
}

static void assert_plan_defaults(const struct plan *pl, __u32 breaker_kinds)
{
	static const __u16 weights[] = { 100, 500, 2500, 5000, 10000 };

	assert_int_equal(pl->nstages, 5);
	for (unsigned int i = 0; i < 5; i++) {
		assert_int_equal(pl->stages[i].weight, weights[i]);
		assert_int_equal(pl->stages[i].hold_ms, 30000);
		assert_false(pl->stages[i].manual);
	}
	assert_int_equal(pl->warmup_bp, 0);
	assert_int_equal(pl->warmup_ms, 0);
	assert_int_equal(pl->interval_ms, 30000);
	assert_int_equal(pl->failure_limit, 2);
	assert_int_equal(pl->max_hold_ms, 300000);
	assert_int_equal(pl->on_max_hold, MAX_HOLD_PAUSE);
	assert_int_equal(pl->nchecks, 0);
	assert_int_equal(pl->rollback, ROLLBACK_INSTANT);
	assert_int_equal(pl->rollback_step_bp, 2000);
	assert_int_equal(pl->rollback_every_ms, 1000);
	assert_false(pl->rollback_hard);
	assert_true(pl->breaker.enabled);
	assert_int_equal(pl->breaker.window_ms, 1000);
	assert_true(pl->breaker.max_ratio == 0.2);
	assert_int_equal(pl->breaker.min_samples, 20);
	assert_int_equal(pl->breaker.kinds, breaker_kinds);
	assert_int_equal(pl->nhooks, 0);
}

/* "rollout": {} is a whole plan; on an http service the breaker also watches 5xx answers. */
static void plan_defaults(void **state)
{
	struct canary_config cfg;
	char err[ERRLEN] = "";

	(void)state;
	assert_int_equal(parse("{'prometheus': {'url': 'http://127.0.0.1:9090'}, " IFACES ","
			       " 'services': [" WEB_C ", 'rollout': {}, 'health': {}}, "
			       "{'name': 'h', 'vip': '203.0.113.20', 'port': 80, 'http': true, "
			       POOLS ", 'rollout': {}, 'health': {}}]}", &cfg, err), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.prometheus.timeout_ms, 5000);
	assert_string_equal(cfg.prometheus.url, "http://127.0.0.1:9090");
	assert_string_equal(cfg.prometheus.token_file, "");
	assert_string_equal(cfg.prometheus.ca_file, "");
	assert_false(cfg.prometheus.insecure);
	assert_plan_defaults(cfg.services[0].plan, K_FLOWS);
	assert_plan_defaults(cfg.services[1].plan, K_FLOWS | K_HTTP_5XX);
	assert_int_equal(cfg.services[0].health->type, HEALTH_TCP);
	assert_int_equal(cfg.services[1].health->type, HEALTH_HTTP);
	for (unsigned int i = 0; i < 2; i++) {
		const struct plan_health *h = cfg.services[i].health;

		assert_string_equal(h->path, "/");
		assert_int_equal(h->every_ms, 2000);
		assert_int_equal(h->timeout_ms, 1000);
		assert_int_equal(h->fall, 3);
		assert_int_equal(h->rise, 2);
	}
	config_free(&cfg);
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
		cmocka_unit_test(tcp_idle_parses),
		cmocka_unit_test(backend_shared_up_to_the_limit),
		cmocka_unit_test(weight_parse_good),
		cmocka_unit_test(weight_parse_bad),
		cmocka_unit_test(weight_formats),
		cmocka_unit_test(endpoints),
		cmocka_unit_test(load_files),
		cmocka_unit_test(plan_config_parses),
		cmocka_unit_test(plan_defaults),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
