// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static const __u8 v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool addr_is_v4(const __u8 addr[16])
{
	return !memcmp(addr, v4_mapped_prefix, sizeof(v4_mapped_prefix));
}

int addr_parse(const char *text, __u8 addr[16])
{
	struct in_addr v4;

	if (inet_pton(AF_INET, text, &v4) == 1) {
		memcpy(addr, v4_mapped_prefix, sizeof(v4_mapped_prefix));
		memcpy(addr + 12, &v4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1)
		return 0;
	return -EINVAL;
}

const char *addr_format(const __u8 addr[16], char *buf, size_t len)
{
	const char *s;

	if (addr_is_v4(addr))
		s = inet_ntop(AF_INET, addr + 12, buf, len);
	else
		s = inet_ntop(AF_INET6, addr, buf, len);
	return s ? s : "?";
}

static void prefix_mask(__u8 addr[16], unsigned int plen)
{
	for (unsigned int bit = plen; bit < 128; bit++)
		addr[bit / 8] &= ~(0x80 >> (bit % 8));
}

int prefix_parse(const char *text, __u8 addr[16], unsigned int *plen)
{
	char host[CANARY_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	unsigned long len;
	size_t hlen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned int max;
	char *end;

	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, hlen);
	host[hlen] = '\0';
	if (addr_parse(host, addr))
		return -EINVAL;
	max = addr_is_v4(addr) ? 32 : 128;
	if (!slash) {
		len = max;
	} else {
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || len > max)
			return -EINVAL;
	}
	*plen = (unsigned int)len + (128 - max);
	prefix_mask(addr, *plen);
	return 0;
}

const char *endpoint_format(const __u8 addr[16], __u16 port, char *buf, size_t len)
{
	char a[CANARY_ADDRSTRLEN];

	addr_format(addr, a, sizeof(a));
	snprintf(buf, len, addr_is_v4(addr) ? "%s:%u" : "[%s]:%u", a, port);
	return buf;
}
