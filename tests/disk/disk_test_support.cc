#include "tests/disk/disk_test_support.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>

#include "admin/admin.h"

namespace sluice::testing {

namespace {

std::string& ns_error() {
  static std::string e = "enter_private_mount_namespace() was not called";
  return e;
}

bool write_file(const char* path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

}  // namespace

void enter_private_mount_namespace() {
  std::string why;
  if (::unshare(CLONE_NEWNS) != 0) {
    why = fmt::format("unshare(CLONE_NEWNS): {}", std::strerror(errno));
    // Not root: a user namespace gives this process the capabilities to mount in its own.
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
      ns_error() =
          fmt::format("{}; unshare(CLONE_NEWUSER | CLONE_NEWNS): {}", why, std::strerror(errno));
      return;
    }
    if (!write_file("/proc/self/setgroups", "deny") ||
        !write_file("/proc/self/uid_map", fmt::format("0 {} 1\n", uid)) ||
        !write_file("/proc/self/gid_map", fmt::format("0 {} 1\n", gid))) {
      ns_error() = why + "; could not write the user namespace's uid/gid maps";
      return;
    }
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    ns_error() = fmt::format("mount --make-rprivate /: {}", std::strerror(errno));
    return;
  }
  ns_error().clear();
}

const std::string& mount_namespace_error() {
  return ns_error();
}

small_tmpfs::small_tmpfs(std::uint64_t bytes) {
  // CI runs these tests as root on a machine like the development one: a test that cannot
  // create its small disk fails rather than passing without having checked anything.
  REQUIRE_MESSAGE(mount_namespace_error().empty(),
                  "cannot run the disk-full tests: no private mount namespace for a small tmpfs "
                  "(needs root or unprivileged user namespaces): "
                      << mount_namespace_error());
  std::filesystem::create_directories(data_dir());
  const auto options = fmt::format("size={},mode=0755", bytes);
  const int rc =
      ::mount("sluice-test", data_dir().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str());
  REQUIRE_MESSAGE(rc == 0, "cannot mount a " << bytes << "-byte tmpfs on " << data_dir().string()
                                             << ": " << std::strerror(errno));
  mounted_ = true;
}

small_tmpfs::~small_tmpfs() {
  if (mounted_) ::umount2(data_dir().c_str(), MNT_DETACH);
}

void small_tmpfs::resize(std::uint64_t bytes) {
  const auto options = fmt::format("size={},mode=0755", bytes);
  const int rc = ::mount("sluice-test", data_dir().c_str(), "tmpfs",
                         MS_REMOUNT | MS_NOSUID | MS_NODEV, options.c_str());
  REQUIRE_MESSAGE(rc == 0, "cannot resize the tmpfs on " << data_dir().string() << ": "
                                                         << std::strerror(errno));
}

std::uint64_t small_tmpfs::free_bytes() const {
  struct statvfs st {};
  if (::statvfs(data_dir().c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string key_of(std::string_view tag, std::uint64_t seq) {
  return fmt::format("{}-{}", tag, seq);
}

std::string value_of(std::string_view tag, std::uint64_t seq, std::size_t size) {
  std::string v = fmt::format("{}-{:010}|", tag, seq);
  std::uint64_t x = mix(seq ^ std::hash<std::string_view>{}(tag));
  while (v.size() < size) {
    x = mix(x);
    v += static_cast<char>('a' + x % 26);
  }
  v.resize(size);
  return v;
}

result<record_metadata> send_one(producer& p, const std::string& topic, std::int32_t partition,
                                 std::string_view tag, std::uint64_t seq, std::size_t size) {
  auto f = p.send({.topic = topic,
                   .key = key_of(tag, seq),
                   .value = value_of(tag, seq, size),
                   .partition = partition});
  return f.get();
}

std::vector<consumer_record> read_partition(const std::string& address, const std::string& topic,
                                            std::int32_t partition) {
  auto a = admin::create({.brokers = address}).value();
  auto end = a->list_offset(topic, partition, latest_offset_spec);
  REQUIRE_MESSAGE(end.has_value(),
                  "list_offset " << topic << "-" << partition << ": " << end.error().message());
  const std::int64_t hwm = end->value_or(0);
  auto c = consumer::create({.brokers = address,
                             .auto_offset_reset = consumer_config::offset_reset::none,
                             .fetch_max_wait = std::chrono::milliseconds(100)})
               .value();
  const topic_partition tp{topic, partition};
  REQUIRE(c->assign({tp}).has_value());
  REQUIRE(c->seek_to_beginning({tp}).has_value());
  std::vector<consumer_record> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((out.empty() || out.back().offset + 1 < hwm)) {
    auto recs = c->poll(std::chrono::milliseconds(200));
    REQUIRE_MESSAGE(recs.has_value(),
                    "consuming " << topic << "-" << partition << ": " << recs.error().message());
    for (auto& r : *recs) out.push_back(std::move(r));
    if (hwm == 0) break;
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                    "reading " << topic << "-" << partition << " up to " << hwm << " timed out");
  }
  return out;
}

void check_partition(const std::vector<consumer_record>& read, std::string_view tag,
                     std::size_t size, std::uint64_t sent, const acked_map& acked,
                     bool allow_unacked, std::int64_t from_offset) {
  std::set<std::uint64_t> seen;
  std::map<std::int64_t, std::uint64_t> seq_at;
  for (std::size_t i = 0; i < read.size(); ++i) {
    const auto& r = read[i];
    CAPTURE(r.offset);
    if (i > 0) REQUIRE(r.offset == read[i - 1].offset + 1);
    REQUIRE(r.value.has_value());
    REQUIRE(r.value->size() == size);
    const auto seq_text = r.value->substr(tag.size() + 1, 10);
    const std::uint64_t seq = std::stoull(std::string(seq_text));
    REQUIRE(seq < sent);
    REQUIRE(r.key == key_of(tag, seq));
    REQUIRE(*r.value == value_of(tag, seq, size));
    REQUIRE_MESSAGE(seen.insert(seq).second, "record " << seq << " stored twice");
    if (!allow_unacked) REQUIRE_MESSAGE(acked.contains(seq), "unacknowledged record " << seq);
    seq_at[r.offset] = seq;
  }
  for (const auto& entry : acked) {  // no structured binding: CAPTURE takes it (clang 14)
    const auto seq = entry.first;
    const auto offset = entry.second;
    if (offset < from_offset) continue;
    CAPTURE(seq);
    CAPTURE(offset);
    auto it = seq_at.find(offset);
    REQUIRE_MESSAGE(it != seq_at.end(),
                    "acknowledged record " << seq << " at offset " << offset << " is missing");
    REQUIRE(it->second == seq);
  }
}

}  // namespace sluice::testing
