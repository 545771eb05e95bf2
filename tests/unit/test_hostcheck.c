// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The host checks without a host: which backends are remote given a namespace's addresses, the
 * sysctl names, and the forwarding check against a sysctl tree written in a temporary directory.
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
#include <cmocka.h>

#include "addr.h"
#include "config.h"
#include "hostcheck.h"

#define ERRLEN 512

/* Two services on s0 (XDP) and s1 (XDP off); the backends of web also serve api. */
static const char config_text[] =
	"{\"interfaces\": [\"s0\", {\"name\": \"s1\", \"xdp\": \"off\", \"tc\": \"auto\"}],"
	" \"services\": ["
	"  {\"name\": \"web\", \"vip\": \"203.0.113.10\", \"port\": 80,"
	"   \"stable\": [\"192.0.2.10:8080\"], \"canary\": [\"192.0.2.70:8080\"]},"
	"  {\"name\": \"api\", \"vip\": \"203.0.113.11\", \"port\": 80,"
	"   \"stable\": [\"192.0.2.10:8080\", \"192.0.2.11:8080\"],"
	"   \"canary\": [\"192.0.2.12:8080\"]},"
	"  {\"name\": \"dns6\", \"vip\": \"2001:db8::53\", \"port\": 53, \"protocol\": \"udp\","
	"   \"stable\": [\"[2001:db8:1::1]:5353\"], \"canary\": []}"
	" ]}";

struct fixture {
	struct canary_config cfg;
	struct host_addrs local;
	char root[64];		/* a sysctl tree: ROOT/net/ipv?/conf/IFACE/forwarding */
};

static void local_add(struct host_addrs *a, const char *text)
{
	a->addr = realloc(a->addr, (a->n + 1) * sizeof(*a->addr));
	assert_non_null(a->addr);
	assert_int_equal(addr_parse(text, a->addr[a->n++]), 0);
}

static void sysctl_write(struct fixture *f, const char *family, const char *ifname, int val)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "mkdir -p %s/net/%s/conf/%s", f->root, family, ifname);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "%s/net/%s/conf/%s/forwarding", f->root, family, ifname);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "%d\n", val);
	assert_int_equal(fclose(fp), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[ERRLEN] = "";

	assert_non_null(f);
	assert_int_equal(config_parse(config_text, "test.json", &f->cfg, err, sizeof(err)), 0);
	snprintf(f->root, sizeof(f->root), "/tmp/test_hostcheck.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	local_add(&f->local, "127.0.0.1");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->root);
	assert_int_equal(system(cmd), 0);
	config_free(&f->cfg);
	host_addrs_free(&f->local);
	free(f);
	return 0;
}

static void sysctl_names(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(forwarding_sysctl("s0", true, buf, sizeof(buf)),
			    "net.ipv4.conf.s0.forwarding");
	/* sysctl(8) writes a dot in an interface name as a slash. */
	assert_string_equal(forwarding_sysctl("eth0.100", false, buf, sizeof(buf)),
			    "net.ipv6.conf.eth0/100.forwarding");
}

static void remote_backends_listed_once(void **state)
{
	struct fixture *f = *state;
	char list[256];

	assert_true(backends_remote(&f->cfg, &f->local, true, list, sizeof(list)));
	/* 192.0.2.10:8080 is in two services: named once; past three, "others". */
	assert_string_equal(list, "192.0.2.10:8080, 192.0.2.70:8080, 192.0.2.11:8080 and others");
	assert_true(backends_remote(&f->cfg, &f->local, false, list, sizeof(list)));
	assert_string_equal(list, "[2001:db8:1::1]:5353");
}

static void local_backends_are_not_remote(void **state)
{
	struct fixture *f = *state;
	char list[256];

	local_add(&f->local, "192.0.2.10");
	local_add(&f->local, "192.0.2.70");
	local_add(&f->local, "192.0.2.12");
	assert_true(backends_remote(&f->cfg, &f->local, true, list, sizeof(list)));
	assert_string_equal(list, "192.0.2.11:8080");
	local_add(&f->local, "192.0.2.11");
	assert_false(backends_remote(&f->cfg, &f->local, true, list, sizeof(list)));
	assert_string_equal(list, "");
	local_add(&f->local, "2001:db8:1::1");
	assert_false(backends_remote(&f->cfg, &f->local, false, list, sizeof(list)));
}

static void forwarding_off_names_the_sysctl(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "";

	sysctl_write(f, "ipv4", "s0", 0);
	sysctl_write(f, "ipv6", "s0", 1);
	assert_int_equal(host_forwarding_check(&f->cfg, &f->local, f->root, err, sizeof(err)),
			 -EHOSTUNREACH);
	assert_string_equal(err, "forwarding is off on s0 (net.ipv4.conf.s0.forwarding=0) and "
			    "backends 192.0.2.10:8080, 192.0.2.70:8080, 192.0.2.11:8080 and others "
			    "are remote: new flows would be dropped; sysctl -w "
			    "net.ipv4.conf.s0.forwarding=1");
	sysctl_write(f, "ipv4", "s0", 1);
	sysctl_write(f, "ipv6", "s0", 0);
	assert_int_equal(host_forwarding_check(&f->cfg, &f->local, f->root, err, sizeof(err)),
			 -EHOSTUNREACH);
	assert_non_null(strstr(err, "(net.ipv6.conf.s0.forwarding=0) and backends "
				    "[2001:db8:1::1]:5353 are remote"));
}

/* s1 has no forward program (xdp off): its sysctls are not read, so they need not exist. */
static void forwarding_on_passes(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "";

	sysctl_write(f, "ipv4", "s0", 1);
	sysctl_write(f, "ipv6", "s0", 1);
	assert_int_equal(host_forwarding_check(&f->cfg, &f->local, f->root, err, sizeof(err)), 0);
}

static void forwarding_unknown_is_an_error(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "", want[256];

	assert_int_equal(host_forwarding_check(&f->cfg, &f->local, f->root, err, sizeof(err)),
			 -ENOENT);
	snprintf(want, sizeof(want), "read %s/net/ipv4/conf/s0/forwarding: No such file or "
		 "directory", f->root);
	assert_string_equal(err, want);
}

/* With every backend local, forwarding is nobody's business: nothing is read. */
static void local_backends_need_no_forwarding(void **state)
{
	struct fixture *f = *state;
	const char *all[] = { "192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.70",
			      "2001:db8:1::1" };
	char err[ERRLEN] = "";

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		local_add(&f->local, all[i]);
	assert_int_equal(host_forwarding_check(&f->cfg, &f->local, f->root, err, sizeof(err)), 0);
}

static void btf(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "", path[128];

	assert_int_equal(host_btf_check(f->root, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/vmlinux", f->root);
	assert_int_equal(host_btf_check(path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/vmlinux (No such file or directory): the CO-RE programs "
				    "cannot load; the kernel must be built with "
				    "CONFIG_DEBUG_INFO_BTF=y"));
}

static void btf_path_from_the_environment(void **state)
{
	(void)state;
	assert_int_equal(unsetenv(HOST_BTF_ENV), 0);
	assert_string_equal(host_btf_path(), HOST_BTF_PATH);
	assert_int_equal(setenv(HOST_BTF_ENV, "", 1), 0);
	assert_string_equal(host_btf_path(), HOST_BTF_PATH);
	assert_int_equal(setenv(HOST_BTF_ENV, "/nowhere/vmlinux", 1), 0);
	assert_string_equal(host_btf_path(), "/nowhere/vmlinux");
	assert_int_equal(unsetenv(HOST_BTF_ENV), 0);
}

/* The agent's own namespace: loopback's address is there, whatever else is. */
static void local_addresses_listed(void **state)
{
	struct host_addrs a;
	char err[ERRLEN] = "";
	__u8 lo[16];
	bool found = false;

	(void)state;
	assert_int_equal(addr_parse("127.0.0.1", lo), 0);
	assert_int_equal(host_addrs_local(&a, err, sizeof(err)), 0);
	for (unsigned int i = 0; i < a.n; i++)
		found |= !memcmp(a.addr[i], lo, 16);
	host_addrs_free(&a);
	assert_true(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sysctl_names),
		cmocka_unit_test_setup_teardown(remote_backends_listed_once, setup, teardown),
		cmocka_unit_test_setup_teardown(local_backends_are_not_remote, setup, teardown),
		cmocka_unit_test_setup_teardown(forwarding_off_names_the_sysctl, setup, teardown),
		cmocka_unit_test_setup_teardown(forwarding_on_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(forwarding_unknown_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(local_backends_need_no_forwarding, setup, teardown),
		cmocka_unit_test_setup_teardown(btf, setup, teardown),
		cmocka_unit_test(btf_path_from_the_environment),
		cmocka_unit_test(local_addresses_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
