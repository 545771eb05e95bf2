/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Reading an HTTP/1.x status line in place, from the first bytes of a response segment. */
#ifndef XDP_CANARY_HTTP_H
#define XDP_CANARY_HTTP_H

#define HTTP_STATUS_LINE_MIN	12	/* "HTTP/1.1 200" */

static __always_inline bool is_digit(__u8 c)
{
	return c >= '0' && c <= '9';
}

/*
 * The status code if @pl starts with "HTTP/1.0 " or "HTTP/1.1 " and three digits, else 0. A
 * status line elsewhere in the segment is not a response start, and is not looked for.
 */
static __always_inline int http_status(const __u8 *pl, const void *data_end)
{
	if ((const void *)(pl + HTTP_STATUS_LINE_MIN) > data_end)
		return 0;
	if (pl[0] != 'H' || pl[1] != 'T' || pl[2] != 'T' || pl[3] != 'P' || pl[4] != '/' ||
	    pl[5] != '1' || pl[6] != '.' || (pl[7] != '0' && pl[7] != '1') || pl[8] != ' ')
		return 0;
	if (pl[9] < '1' || pl[9] > '5' || !is_digit(pl[10]) || !is_digit(pl[11]))
		return 0;
	return (pl[9] - '0') * 100 + (pl[10] - '0') * 10 + (pl[11] - '0');
}

#endif /* XDP_CANARY_HTTP_H */
