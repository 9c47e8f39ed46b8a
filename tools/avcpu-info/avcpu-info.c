// SPDX-License-Identifier: GPL-2.0
/*
 * avcpu-info: print what /dev/avcpu reports about this host.
 *
 * Exit status: 0 on success, 1 when the device cannot be opened or queried.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/avcpu.h>

static const char *mode_name(unsigned int mode)
{
	switch (mode) {
	case AVCPU_HOST_MODE_VHE:
		return "VHE (kernel at EL2)";
	case AVCPU_HOST_MODE_NVHE:
		return "nVHE (kernel at EL1, EL2 held by the hyp stub)";
	default:
		return "unknown";
	}
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/avcpu";
	struct avcpu_caps c;
	int fd, version;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "avcpu-info: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	version = ioctl(fd, AVCPU_GET_API_VERSION, 0);
	if (version < 0 || ioctl(fd, AVCPU_GET_CAPS, &c) < 0) {
		fprintf(stderr, "avcpu-info: %s: %s\n", dev, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);

	printf("api version:   %d\n", version);
	printf("host mode:     %s\n", mode_name(c.host_mode));
	printf("PA size:       %u bits\n", c.pa_bits);
	printf("IPA limit:     %u bits\n", c.ipa_bits);
	printf("max vCPUs:     %u per VM\n", c.max_vcpus);
	printf("VMID size:     %u bits\n", c.vmid_bits);
	if (c.gic_version)
		printf("GIC:           v%u system register interface\n",
		       c.gic_version);
	else
		printf("GIC:           no GICv3 CPU interface\n");
	if (c.flags & AVCPU_CAP_F_NR_LRS)
		printf("list regs:     %u\n", c.nr_lrs);
	else
		printf("list regs:     not known in this host mode yet\n");
	printf("runs guests:   %s\n", c.flags & AVCPU_CAP_F_RUN ? "yes" :
	       "not on this host yet");
	printf("fast paths:    %s\n", c.flags & AVCPU_CAP_F_FAST_PATHS ?
	       "ioeventfd, irqfd, in-kernel SGIs, statistics" : "no");
	printf("coalesced MMIO: %s\n", c.flags & AVCPU_CAP_F_COALESCED_MMIO ?
	       "yes" : "no");
	return 0;
}
