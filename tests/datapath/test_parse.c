// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Packets the splitter must leave alone: passed unchanged, and counted when they are odd. */
#include <netinet/in.h>
#include <string.h>
#include <linux/bpf.h>

#include "dp_tests.h"
#include "stats.h"

#define VIP4 "198.51.100.100"
#define VIP6 "2001:db8:1::100"

static void services_up(struct dp_env *env)
{
	const char *b4[] = { "192.0.2.10" }, *b6[] = { "2001:db8:2::10" };
	struct test_svc s4, s6;

	env_svc(env, &s4, VIP4, 80, IPPROTO_TCP, 1, 5000);
	env_pool(env, &s4, CANARY_V_STABLE, b4, 1, 8080);
	env_pool(env, &s4, CANARY_V_CANARY, b4, 1, 8081);
	env_svc(env, &s6, VIP6, 53, IPPROTO_UDP, 2, 5000);
	env_pool(env, &s6, CANARY_V_STABLE, b6, 1, 5353);
	env_pool(env, &s6, CANARY_V_CANARY, b6, 1, 5354);
}

static void assert_passed_unchanged(struct dp_env *env, const __u8 *in, size_t len)
{
	__u8 out[PKT_MAX];
	__u32 out_len;

	assert_int_equal(env_run(env, in, len, out, &out_len), XDP_PASS);
	assert_packet_equal(out, out_len, in, len);
}

static __u64 passed_count(struct dp_env *env, enum canary_dp_reason reason)
{
	struct dp_stats s;

	assert_int_equal(stats_passed(&env->dp, reason, &s), 0);
	return s.packets;
}

static void assert_no_service_traffic(struct dp_env *env)
{
	struct ver_stats vs;

	for (__u32 id = 1; id <= 2; id++)
		for (__u8 v = 0; v < CANARY_V_MAX; v++) {
			assert_int_equal(stats_ver(&env->dp, id, v, &vs), 0);
			assert_int_equal(vs.packets + vs.new_flows + vs.no_backend, 0);
		}
}

static void send_spec_unchanged(struct dp_env *env, const struct pkt_spec *s)
{
	__u8 in[PKT_MAX];

	assert_passed_unchanged(env, in, pkt_build(s, in));
}

static void not_a_service_untouched(void **state)
{
	struct dp_env *env = *state;
	struct pkt_spec s;
	__u8 arp[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 1, 1, 0x08, 0x06 };

	services_up(env);
	pkt_spec_init(&s, "198.51.100.7", 40000, VIP4, 81, IPPROTO_TCP);	/* other port */
	send_spec_unchanged(env, &s);
	pkt_spec_init(&s, "198.51.100.7", 40000, "198.51.100.101", 80, IPPROTO_TCP);
	send_spec_unchanged(env, &s);
	pkt_spec_init(&s, "198.51.100.7", 40000, VIP4, 80, IPPROTO_UDP);	/* other proto */
	send_spec_unchanged(env, &s);
	pkt_spec_init(&s, "198.51.100.7", 0, VIP4, 0, IPPROTO_ICMP);
	send_spec_unchanged(env, &s);
	pkt_spec_init(&s, "2001:db8:1::7", 40000, VIP6, 53, IPPROTO_TCP);
	send_spec_unchanged(env, &s);
	assert_passed_unchanged(env, arp, sizeof(arp));

	assert_no_service_traffic(env);
	for (int r = 0; r < CANARY_DP_MAX; r++)
		assert_int_equal(passed_count(env, r), 0);
}

static void fragments_passed_and_counted(void **state)
{
	struct dp_env *env = *state;
	struct pkt_spec s;

	services_up(env);
	pkt_spec_init(&s, "198.51.100.7", 40000, VIP4, 80, IPPROTO_TCP);
	s.frag = 0x2000;		/* first fragment: MF, offset 0 */
	send_spec_unchanged(env, &s);
	s.frag = 0x0010;		/* last fragment: offset 128 bytes */
	send_spec_unchanged(env, &s);
	pkt_spec_init(&s, "2001:db8:1::7", 40000, VIP6, 53, IPPROTO_UDP);
	s.v6_frag_hdr = true;
	send_spec_unchanged(env, &s);

	assert_int_equal(passed_count(env, CANARY_DP_FRAGMENT), 3);
	assert_no_service_traffic(env);
}

/* Every length short of the whole packet, from the Ethernet header on. */
static unsigned int send_truncations(struct dp_env *env, const struct pkt_spec *s)
{
	__u8 in[PKT_MAX];
	size_t len = pkt_build(s, in);
	unsigned int sent = 0;

	for (size_t cut = 14; cut < len; cut++, sent++)
		assert_passed_unchanged(env, in, cut);
	return sent;
}

static void truncated_at_every_length(void **state)
{
	struct dp_env *env = *state;
	unsigned int sent = 0;
	struct pkt_spec s;

	services_up(env);
	pkt_spec_init(&s, "198.51.100.7", 40000, VIP4, 80, IPPROTO_TCP);
	s.vlan_tags = 2;
	s.ip_opt_words = 2;
	s.payload_len = 4;
	sent += send_truncations(env, &s);
	pkt_spec_init(&s, "2001:db8:1::7", 40000, VIP6, 53, IPPROTO_UDP);
	s.vlan_tags = 1;
	s.payload_len = 4;
	sent += send_truncations(env, &s);

	assert_int_equal(passed_count(env, CANARY_DP_TRUNCATED), sent);
	assert_no_service_traffic(env);
}

/* Overwrites @width (1 or 2) bytes at @off with @value, big-endian, and sends the result. */
static void corrupt_and_send(struct dp_env *env, const struct pkt_spec *s, size_t off,
			     __u16 value, int width)
{
	__u8 in[PKT_MAX];
	size_t len = pkt_build(s, in);

	if (width == 2)
		in[off++] = value >> 8;
	in[off] = value & 0xff;
	assert_passed_unchanged(env, in, len);
}

static void bogus_headers_passed_and_counted(void **state)
{
	struct dp_env *env = *state;
	struct pkt_spec s;
	size_t l3, l4;

	services_up(env);
	pkt_spec_init(&s, "198.51.100.7", 40000, VIP4, 80, IPPROTO_TCP);
	l3 = pkt_l3_offset(&s);
	l4 = pkt_l4_offset(&s);
	corrupt_and_send(env, &s, l3, 0x44, 1);		/* IHL 4 */
	corrupt_and_send(env, &s, l3 + 2, 16, 2);	/* total length < header */
	corrupt_and_send(env, &s, l4 + 12, 0x40, 1);	/* TCP data offset 4 */
	corrupt_and_send(env, &s, l4 + 12, 0xf0, 1);	/* TCP header past the packet */
	pkt_spec_init(&s, "2001:db8:1::7", 40000, VIP6, 53, IPPROTO_UDP);
	l4 = pkt_l4_offset(&s);
	corrupt_and_send(env, &s, l4 + 4, 7, 2);		/* UDP length < its header */
	corrupt_and_send(env, &s, l4 + 4, 4096, 2);	/* UDP length past the packet */

	assert_int_equal(passed_count(env, CANARY_DP_BAD_HEADER), 6);
	assert_no_service_traffic(env);
}

static void vlan_stack_too_deep_counted(void **state)
{
	struct dp_env *env = *state;
	__u8 in[PKT_MAX];
	struct pkt_spec s;
	size_t len;

	services_up(env);
	pkt_spec_init(&s, "198.51.100.7", 40000, VIP4, 80, IPPROTO_TCP);
	s.vlan_tags = 2;
	len = pkt_build(&s, in);
	in[20] = 0x81;		/* a third tag where the ethertype was */
	in[21] = 0x00;
	assert_passed_unchanged(env, in, len);
	assert_int_equal(passed_count(env, CANARY_DP_VLAN_DEPTH), 1);
}

#define PARSE_TEST(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

static const struct CMUnitTest parse_tests[] = {
	PARSE_TEST(not_a_service_untouched),
	PARSE_TEST(fragments_passed_and_counted),
	PARSE_TEST(truncated_at_every_length),
	PARSE_TEST(bogus_headers_passed_and_counted),
	PARSE_TEST(vlan_stack_too_deep_counted),
};

const struct test_group parse_group = { "parse", parse_tests,
					 sizeof(parse_tests) / sizeof(parse_tests[0]) };
