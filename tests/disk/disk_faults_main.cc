// The disk fault tests' main: enters a private mount namespace before doctest (or anything
// else) starts a thread, so the disk-full tests can mount small tmpfs file systems that this
// process and the brokers it spawns share. If that fails, the disk-full tests fail saying why.

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/disk/disk_test_support.h"

int main(int argc, char** argv) {
  sluice::testing::enter_private_mount_namespace();
  doctest::Context context(argc, argv);
  return context.run();
}
