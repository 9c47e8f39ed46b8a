// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/avcpu: the device node, who may open it, and the system ioctls'
 * argument checking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_test.h"

#define MISC_MAJOR	10

static int open_dev(struct __test_metadata *_metadata)
{
	int fd = open(AVCPU_DEV, O_RDWR | O_CLOEXEC);

	ASSERT_GE(fd, 0) TH_LOG("open %s: %s", AVCPU_DEV, strerror(errno));
	return fd;
}

TEST(node)
{
	struct stat st;

	AVCPU_REQUIRE_LOADED();
	ASSERT_EQ(0, stat(AVCPU_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
	/* root only, unless the administrator says otherwise */
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

TEST(open_unprivileged)
{
	int status;
	pid_t pid;

	AVCPU_REQUIRE_LOADED();
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		int fd;

		if (setgid(65534) || setuid(65534))
			_exit(2);
		fd = open(AVCPU_DEV, O_RDWR);
		_exit(fd < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("nobody could open /dev/avcpu");
}

TEST(api_version)
{
	int fd;

	AVCPU_REQUIRE_LOADED();
	fd = open_dev(_metadata);
	EXPECT_EQ(AVCPU_API_VERSION, ioctl(fd, AVCPU_GET_API_VERSION, 0));
	/* it takes no argument, and says so */
	EXPECT_EQ(-1, ioctl(fd, AVCPU_GET_API_VERSION, 1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(unknown_ioctl)
{
	/* the wrong size, the wrong direction, free numbers, KVM's numbers */
	const unsigned long cmds[] = {
		_IO(AVCPUIO, 0x00),
		_IO(AVCPUIO, 0xbf),
		_IO(AVCPUIO, 0x81),
		_IOR(AVCPUIO, 0x81, uint64_t),
		_IOW(AVCPUIO, 0x81, struct avcpu_caps),
		_IOWR(AVCPUIO, 0x81, struct avcpu_caps),
		_IOR(AVCPUIO, 0x80, int),
		_IO(0xAE, 0x00),	/* KVM_GET_API_VERSION */
		_IO(0xAE, 0x01),	/* KVM_CREATE_VM */
		0,
		~0UL,
	};
	unsigned int i;
	int fd;

	AVCPU_REQUIRE_LOADED();
	fd = open_dev(_metadata);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmds[i], 0)) TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", cmds[i]);
	}
	close(fd);
}

TEST(caps_bad_pointer)
{
	void *ro;
	int fd;

	AVCPU_REQUIRE_LOADED();
	fd = open_dev(_metadata);

	EXPECT_EQ(-1, ioctl(fd, AVCPU_GET_CAPS, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(fd, AVCPU_GET_CAPS, (void *)1));
	EXPECT_EQ(EFAULT, errno);
	/* a kernel address */
	EXPECT_EQ(-1, ioctl(fd, AVCPU_GET_CAPS, (void *)0xffff800008000000UL));
	EXPECT_EQ(EFAULT, errno);

	/* a page the caller cannot write */
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-1, ioctl(fd, AVCPU_GET_CAPS, ro));
	EXPECT_EQ(EFAULT, errno);
	munmap(ro, 4096);

	/* and the device still answers */
	EXPECT_EQ(AVCPU_API_VERSION, ioctl(fd, AVCPU_GET_API_VERSION, 0));
	close(fd);
}

TEST(many_opens)
{
	int fds[16], i;

	AVCPU_REQUIRE_LOADED();
	for (i = 0; i < 16; i++)
		fds[i] = open_dev(_metadata);
	for (i = 0; i < 16; i++)
		EXPECT_EQ(AVCPU_API_VERSION,
			  ioctl(fds[i], AVCPU_GET_API_VERSION, 0));
	/* close in another order than opened */
	for (i = 0; i < 16; i += 2)
		close(fds[i]);
	for (i = 1; i < 16; i += 2)
		close(fds[i]);
}

TEST(read_write_not_supported)
{
	char c = 0;
	int fd;

	AVCPU_REQUIRE_LOADED();
	fd = open_dev(_metadata);
	EXPECT_EQ(-1, read(fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(fd, &c, 1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST_HARNESS_MAIN
