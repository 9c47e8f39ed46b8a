// SPDX-License-Identifier: GPL-2.0
/*
 * Module life: unload and reload repeatedly, refusal to unload while the
 * device is open, double load. Each test leaves avcpu loaded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "avcpu_test.h"

#define CYCLES	20

TEST(reload_cycles)
{
	int i, fd, err;

	AVCPU_REQUIRE_LOADED();
	AVCPU_REQUIRE_MODULE_FILE();

	for (i = 0; i < CYCLES; i++) {
		err = __avcpu_unload(true);
		ASSERT_EQ(0, err) TH_LOG("cycle %d: unload: %s", i, strerror(-err));
		EXPECT_FALSE(avcpu_loaded());
		/* the node goes with the module */
		EXPECT_NE(0, access(AVCPU_DEV, F_OK));

		err = __avcpu_load();
		ASSERT_EQ(0, err) TH_LOG("cycle %d: load: %s", i, strerror(-err));
		ASSERT_TRUE(avcpu_loaded());
		fd = open(AVCPU_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_GE(fd, 0) TH_LOG("cycle %d: open: %s", i, strerror(errno));
		EXPECT_EQ(AVCPU_API_VERSION, ioctl(fd, AVCPU_GET_API_VERSION, 0));
		close(fd);
	}
}

TEST(busy_while_open)
{
	int fd, err;

	AVCPU_REQUIRE_LOADED();
	fd = open(AVCPU_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);

	err = __avcpu_unload(true);
	EXPECT_EQ(-EWOULDBLOCK, err) TH_LOG("unload with the device open: %s",
					    strerror(-err));
	if (err == 0) {
		/* put it back for the tests that follow */
		close(fd);
		ASSERT_EQ(0, __avcpu_load());
		return;
	}
	EXPECT_TRUE(avcpu_loaded());
	EXPECT_EQ(AVCPU_API_VERSION, ioctl(fd, AVCPU_GET_API_VERSION, 0));
	close(fd);
	EXPECT_TRUE(avcpu_loaded());
}

TEST(load_twice)
{
	AVCPU_REQUIRE_LOADED();
	AVCPU_REQUIRE_MODULE_FILE();
	EXPECT_EQ(-EEXIST, __avcpu_load());
	EXPECT_TRUE(avcpu_loaded());
}

TEST_HARNESS_MAIN
