// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>

#include "iface.h"

/* An ioctl on @ifname; @ifr carries the request's data. Returns 0 or a negative errno. */
static int iface_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr))
		ret = -errno;
	close(fd);
	return ret;
}

int iface_mac(const char *ifname, __u8 mac[6], char *err, size_t errlen)
{
	struct ifreq ifr = {};
	int ret = iface_ioctl(ifname, SIOCGIFHWADDR, &ifr);

	if (ret) {
		snprintf(err, errlen, "MAC address of %s: %s", ifname, strerror(-ret));
		return ret;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

bool iface_is_veth(const char *ifname)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&info };

	return !iface_ioctl(ifname, SIOCETHTOOL, &ifr) && !strcmp(info.driver, "veth");
}

unsigned int iface_mtu(const char *ifname)
{
	struct ifreq ifr = {};

	return iface_ioctl(ifname, SIOCGIFMTU, &ifr) ? 0 : (unsigned int)ifr.ifr_mtu;
}
