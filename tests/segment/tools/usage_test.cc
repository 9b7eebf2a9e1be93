// sluice-log's command line: help, usage errors and bad paths.

#include <doctest/doctest.h>

#include <filesystem>

#include "../log_fixture.h"
#include "tool_runner.h"

namespace sluice::test {

TEST_CASE("--help works for the tool and every subcommand and exits 0") {
  for (const char* args : {"--help", "dump --help", "verify --help", "recover --help"}) {
    auto out = run_sluice_log(args);
    CHECK_MESSAGE(out.exit_code == 0, args);
    CHECK_MESSAGE(out.text.find("Usage") != std::string::npos, out.text);
  }
}

TEST_CASE("a missing subcommand, an unknown option or a missing DIR exits 2") {
  CHECK(run_sluice_log("").exit_code == 2);
  CHECK(run_sluice_log("dump --no-such-option /tmp").exit_code == 2);
  CHECK(run_sluice_log("verify").exit_code == 2);
  CHECK(run_sluice_log("dump --from-offset -3 /tmp").exit_code == 2);
}

TEST_CASE("a path that does not exist is named as no such directory, exit 2") {
  temp_dir dir;
  const auto missing = dir.path() / "nope-0";
  for (const char* cmd : {"dump ", "verify ", "recover "}) {
    auto out = run_sluice_log(cmd + quoted(missing));
    CHECK(out.exit_code == 2);
    CHECK_MESSAGE(out.text.find(missing.string() + ": no such directory") != std::string::npos,
                  out.text);
  }
  CHECK(!std::filesystem::exists(missing));
}

TEST_CASE("a directory without .log files is not a partition directory, exit 2") {
  temp_dir dir;
  auto out = run_sluice_log("verify " + quoted(dir.path()));
  CHECK(out.exit_code == 2);
  CHECK(out.text.find("not a partition directory: no .log files in " + dir.path().string()) !=
        std::string::npos);
}

}  // namespace sluice::test
