// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The pinned maps as an SRE sees them: named, BTF-typed, readable with bpftool, reusable. */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "addr.h"
#include "attach.h"
#include "dp_tests.h"
#include "canary_bpf.skel.h"

static const char *const map_names[] = { "svc", "svc_state", "svc_filter", "be_filter",
					 "svc_backends", "lat_hist", "pool_empty", "flows",
					 "syn_cache", "be_svc", "svc_vip", "conn_room",
					 "overrides", "ver_stats", "be_stats", "dp_stats",
					 "fib_cache", "tx_ports", "if_cfg" };

static void pin_dir_of(char *buf, size_t len)
{
	snprintf(buf, len, "/sys/fs/bpf/xdp-canary-test-%d", (int)getpid());
}

static int pin_group_cleanup(void **state)
{
	char dir[64], cmd[96];

	(void)state;
	pin_dir_of(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static void open_pinned(struct canary_dp *dp)
{
	struct canary_dp_opts opts = { .flow_entries = 4096 };
	char dir[64], err[256];

	pin_dir_of(dir, sizeof(dir));
	opts.pin_dir = dir;
	if (canary_dp_open(dp, &opts, err, sizeof(err)))
		fail_msg("%s", err);
}

static void put_demo_service(struct canary_dp *dp)
{
	struct svc_state st = { .weight = 2500, .gen = 1 };
	struct svc_key key;
	__u8 addr[16];

	assert_int_equal(addr_parse("198.51.100.100", addr), 0);
	svc_key_init(&key, addr, 80, IPPROTO_TCP);
	assert_int_equal(svc_put(dp, &key, 5, &st), 0);
}

static json_t *bpftool_json(const char *args)
{
	char cmd[256], buf[65536];
	json_error_t jerr;
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "bpftool -j %s", args);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	assert_int_equal(pclose(f), 0);
	buf[n] = '\0';
	return json_loads(buf, 0, &jerr);
}

static void maps_pinned_named_and_typed(void **state)
{
	char dir[64], path[128];
	struct canary_dp dp;
	struct stat st;

	(void)state;
	open_pinned(&dp);
	pin_dir_of(dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd;

		assert_true(strlen(map_names[i]) <= 15);
		snprintf(path, sizeof(path), "%s/%s", dir, map_names[i]);
		assert_int_equal(stat(path, &st), 0);
		fd = bpf_obj_get(path);
		assert_true(fd >= 0);
		assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
		assert_string_equal(info.name, map_names[i]);
		/* The kernel takes no BTF for map-in-map and devmap types. */
		if (info.type != BPF_MAP_TYPE_ARRAY_OF_MAPS && info.type != BPF_MAP_TYPE_DEVMAP_HASH)
			assert_true(info.btf_id != 0 && info.btf_value_type_id != 0);
		close(fd);
	}
	assert_int_equal(canary_dp_unpin(&dp), 0);
	assert_int_equal(stat(dir, &st), -1);
	canary_dp_close(&dp);
}

static void bpftool_dump_shows_field_names(void **state)
{
	json_t *root, *fmt;
	char dir[64], args[128];
	struct canary_dp dp;

	(void)state;
	open_pinned(&dp);
	put_demo_service(&dp);
	pin_dir_of(dir, sizeof(dir));
	snprintf(args, sizeof(args), "map dump pinned %s/svc", dir);
	root = bpftool_json(args);
	assert_non_null(root);
	assert_int_equal(json_array_size(root), 1);
	fmt = json_object_get(json_array_get(root, 0), "formatted");
	assert_non_null(fmt);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(fmt, "key"), "port")),
			 80);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(fmt, "key"), "proto")),
			 IPPROTO_TCP);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(fmt, "value"), "id")),
			 5);
	json_decref(root);

	/* The weight is in svc_state, at the service's id. */
	snprintf(args, sizeof(args), "map lookup pinned %s/svc_state key 5 0 0 0", dir);
	root = bpftool_json(args);
	assert_non_null(root);
	fmt = json_object_get(json_object_get(root, "formatted"), "value");
	assert_non_null(fmt);
	assert_int_equal(json_integer_value(json_object_get(fmt, "weight")), 2500);
	assert_int_equal(json_integer_value(json_object_get(fmt, "flags")), CANARY_SVC_F_ACTIVE);
	json_decref(root);
	assert_int_equal(canary_dp_unpin(&dp), 0);
	canary_dp_close(&dp);
}

/* svc_backends holds pools; each pool is a map of its own, typed, so bpftool shows its fields. */
static void pools_are_typed_maps(void **state)
{
	struct backend be = { .port = 8080 };
	struct bpf_map_info info = {};
	__u32 idx = pool_index(5, CANARY_V_CANARY), inner_id, len = sizeof(info);
	struct canary_dp dp;
	int fd;

	(void)state;
	open_pinned(&dp);
	assert_int_equal(addr_parse("192.0.2.10", be.addr), 0);
	assert_int_equal(pool_publish(&dp, 5, CANARY_V_CANARY, &be, 1), 0);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(dp.skel->maps.svc_backends), &idx,
					     &inner_id), 0);
	fd = bpf_map_get_fd_by_id(inner_id);
	assert_true(fd >= 0);
	assert_int_equal(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	assert_string_equal(info.name, "pool");
	assert_true(info.btf_id != 0 && info.btf_value_type_id != 0);
	close(fd);
	assert_int_equal(canary_dp_unpin(&dp), 0);
	canary_dp_close(&dp);
}

static __u32 map_id(struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &len), 0);
	return info.id;
}

/* A second loader finds the first one's maps and their contents: what a restart relies on. */
static void reopen_reuses_pinned_maps(void **state)
{
	struct canary_dp first, second;
	struct svc_state st;
	struct svc_key key;
	__u8 addr[16];
	__u32 id;

	(void)state;
	open_pinned(&first);
	put_demo_service(&first);
	open_pinned(&second);
	assert_int_equal(map_id(first.skel->maps.svc), map_id(second.skel->maps.svc));
	assert_int_equal(map_id(first.skel->maps.flows), map_id(second.skel->maps.flows));
	assert_int_equal(addr_parse("198.51.100.100", addr), 0);
	svc_key_init(&key, addr, 80, IPPROTO_TCP);
	assert_int_equal(svc_id_of(&second, &key, &id), 0);
	assert_int_equal(svc_state_read(&second, id, &st), 0);
	assert_int_equal(st.weight, 2500);
	/* Both processes write the same word: a change by one is seen by the other. */
	assert_int_equal(svc_set_weight(&second, id, 100), 0);
	assert_int_equal(svc_state_read(&first, id, &st), 0);
	assert_int_equal(st.weight, 100);
	assert_int_equal(canary_dp_unpin(&second), 0);
	canary_dp_close(&second);
	canary_dp_close(&first);
}

/* A reader of the pins (canaryctl without canaryd) takes the flow table's size from its pin. */
static void reader_takes_the_flow_table_size(void **state)
{
	struct canary_dp_opts opts = { .pins_only = true };
	struct canary_dp first, reader;
	char dir[64], err[256];

	(void)state;
	open_pinned(&first);
	pin_dir_of(dir, sizeof(dir));
	opts.pin_dir = dir;
	if (canary_dp_open(&reader, &opts, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(map_id(first.skel->maps.flows), map_id(reader.skel->maps.flows));
	assert_int_equal(bpf_map__max_entries(reader.skel->maps.flows), 4096);
	canary_dp_close(&reader);
	assert_int_equal(canary_dp_unpin(&first), 0);
	canary_dp_close(&first);
}

/* Whether @cmd prints @what as a whole word: "prog 12" is not in "prog 123". */
static bool command_output_has(const char *cmd, const char *what)
{
	size_t n = strlen(what);
	char line[512];
	bool found = false;
	FILE *f = popen(cmd, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		for (const char *at = strstr(line, what); at; at = strstr(at + 1, what))
			found |= !isalnum((unsigned char)at[n]) && at[n] != '_';
	pclose(f);
	return found;
}

/* "prog ID" as `bpftool link show` prints a link's program. */
static void link_pattern(struct bpf_program *prog, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 info_len = sizeof(info);

	assert_int_equal(bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &info_len), 0);
	snprintf(buf, len, "prog %u", info.id);
}

/* TCX came in Linux 6.6: told by the version, not by what the library found, to check it. */
static bool kernel_has_tcx(void)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;

	assert_int_equal(uname(&u), 0);
	assert_int_equal(sscanf(u.release, "%u.%u", &major, &minor), 2);
	return major > 6 || (major == 6 && minor >= 6);
}

static void tc_filter_shown(bool shown)
{
	assert_int_equal(command_output_has("tc filter show dev xc0 egress", "tc_canary_reply"), shown);
}

/*
 * Both ways of attaching the TC program, and XDP by link; each says what it used, and goes.
 * Asked for TCX, a kernel before 6.6 gets clsact: the fallback Debian 12's 6.1 runs.
 */
static void attach_and_detach(void **state)
{
	struct dp_env *env = *state;
	enum canary_tc_mode tc = CANARY_TC_TCX;
	enum canary_xdp_mode xdp;
	unsigned int ifindex = env->if_client;
	bool tcx = kernel_has_tcx();
	char err[256], xdp_link[32], tc_link[32];

	link_pattern(env->dp.skel->progs.xdp_canary_fwd, xdp_link, sizeof(xdp_link));
	link_pattern(env->dp.skel->progs.tc_canary_reply, tc_link, sizeof(tc_link));
	assert_int_equal(canary_attach_xdp(&env->dp, ifindex, &xdp, err, sizeof(err)), 0);
	assert_int_equal(xdp, CANARY_XDP_NATIVE);	/* veth has native XDP */
	assert_int_equal(canary_attach_tc(&env->dp, ifindex, &tc, err, sizeof(err)), 0);
	assert_int_equal(tc, tcx ? CANARY_TC_TCX : CANARY_TC_CLSACT);
	assert_true(command_output_has("bpftool link show", xdp_link));
	assert_int_equal(command_output_has("bpftool link show", tc_link), tcx);
	tc_filter_shown(!tcx);
	canary_dp_detach_all(&env->dp);
	assert_false(command_output_has("bpftool link show", xdp_link));
	assert_false(command_output_has("bpftool link show", tc_link));
	tc_filter_shown(false);

	tc = CANARY_TC_CLSACT;
	assert_int_equal(canary_attach_tc(&env->dp, ifindex, &tc, err, sizeof(err)), 0);
	assert_int_equal(tc, CANARY_TC_CLSACT);
	tc_filter_shown(true);
	canary_dp_detach_all(&env->dp);
	tc_filter_shown(false);
}

static const struct CMUnitTest pin_tests[] = {
	cmocka_unit_test_setup_teardown(attach_and_detach, env_setup, env_teardown),
	cmocka_unit_test_teardown(maps_pinned_named_and_typed, pin_group_cleanup),
	cmocka_unit_test_teardown(bpftool_dump_shows_field_names, pin_group_cleanup),
	cmocka_unit_test_teardown(pools_are_typed_maps, pin_group_cleanup),
	cmocka_unit_test_teardown(reopen_reuses_pinned_maps, pin_group_cleanup),
	cmocka_unit_test_teardown(reader_takes_the_flow_table_size, pin_group_cleanup),
};

const struct test_group pin_group = { "pin", pin_tests, sizeof(pin_tests) / sizeof(pin_tests[0]) };
