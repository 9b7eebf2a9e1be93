#include "tests/chaos/log_verifier.h"

#include <fmt/format.h>

#include <map>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "admin/admin.h"
#include "consumer/consumer.h"

namespace sluice::chaos {
namespace {

constexpr std::size_t max_problems = 20;

struct slot {
  bool present = false;
  bool bad = false;  // its bytes are not what was sent
  std::uint64_t id = 0;
  std::uint64_t value_hash = 0;
};

struct partition_log_copy {
  std::int64_t start = 0;   // log start offset
  std::int64_t end = 0;     // high watermark
  std::vector<slot> slots;  // [start, end)
};

void note(verdict& v, std::string what) {
  if (v.problems.size() < max_problems) v.problems.push_back(std::move(what));
}

}  // namespace

verdict verify_log(const std::string& brokers, const std::vector<verify_topic>& topics,
                   const std::vector<ack>& acks, std::uint64_t seed,
                   std::chrono::milliseconds timeout) {
  verdict v;
  v.acked = acks.size();
  const auto deadline = std::chrono::steady_clock::now() + timeout;

  // Where each partition's log starts and ends.
  auto adm = admin::create({.brokers = brokers});
  if (!adm) throw std::runtime_error("admin: " + adm.error().message());
  std::vector<std::vector<partition_log_copy>> copies(topics.size());
  std::vector<topic_partition> assignment;
  for (std::size_t t = 0; t < topics.size(); ++t) {
    auto d = (*adm)->describe_topic(topics[t].name);
    if (!d) throw std::runtime_error("describe " + topics[t].name + ": " + d.error().message());
    copies[t].resize(static_cast<std::size_t>(topics[t].partitions));
    for (const auto& pd : d->partitions) {
      if (pd.problem) {
        throw std::runtime_error(
            fmt::format("{}-{}: {}", topics[t].name, pd.partition, pd.problem->message()));
      }
      auto& c = copies[t].at(static_cast<std::size_t>(pd.partition));
      c.start = pd.log_start_offset;
      c.end = pd.high_watermark;
      c.slots.resize(static_cast<std::size_t>(c.end - c.start));
      if (c.end > c.start) assignment.push_back({topics[t].name, pd.partition});
    }
  }

  // Read everything.
  std::map<std::string, std::size_t, std::less<>> topic_index;
  for (std::size_t t = 0; t < topics.size(); ++t) topic_index[topics[t].name] = t;
  auto con = consumer::create(
      {.brokers = brokers, .auto_offset_reset = consumer_config::offset_reset::none});
  if (!con) throw std::runtime_error("consumer: " + con.error().message());
  if (auto r = (*con)->assign(assignment); !r) {
    throw std::runtime_error("assign: " + r.error().message());
  }
  std::int64_t remaining = 0;
  for (const auto& tp : assignment) {
    const auto& c = copies[topic_index.at(tp.topic)][static_cast<std::size_t>(tp.partition)];
    if (auto r = (*con)->seek(tp, c.start); !r) {
      throw std::runtime_error("seek: " + r.error().message());
    }
    remaining += c.end - c.start;
  }
  bool read_failed = false;
  while (remaining > 0) {
    // A partition ends at its high watermark: once every one is there, the read is done.
    bool done = true;
    for (const auto& tp : assignment) {
      const auto& c = copies[topic_index.at(tp.topic)][static_cast<std::size_t>(tp.partition)];
      auto pos = (*con)->position(tp);
      if (!pos || *pos < c.end) done = false;
    }
    if (done) break;
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error(
          fmt::format("the log was not read to its end in {} ms", timeout.count()));
    }
    auto records = (*con)->poll(std::chrono::milliseconds(200));
    if (!records) {
      // A batch that fails its CRC or does not decode: the partition stops there, so whatever
      // was acknowledged behind it counts as lost too.
      ++v.corrupted;
      note(v, "read: " + records.error().message());
      read_failed = true;
      break;
    }
    for (auto& r : *records) {
      ++v.records_read;
      auto& c = copies[topic_index.at(r.topic)][static_cast<std::size_t>(r.partition)];
      if (r.offset < c.start || r.offset >= c.end) {
        ++v.corrupted;
        note(v, fmt::format("{}-{}@{}: outside [{}, {})", r.topic, r.partition, r.offset, c.start,
                            c.end));
        continue;
      }
      slot& s = c.slots[static_cast<std::size_t>(r.offset - c.start)];
      if (s.present) {
        note(v, fmt::format("{}-{}@{}: read twice", r.topic, r.partition, r.offset));
        continue;
      }
      --remaining;
      s.present = true;
      auto id = r.key ? parse_key(*r.key) : std::nullopt;
      const std::string_view value = r.value ? std::string_view(*r.value) : std::string_view();
      s.value_hash = hash_of(value);
      if (!id) {
        s.bad = true;
        note(v,
             fmt::format("{}-{}@{}: key is not a chaos record's", r.topic, r.partition, r.offset));
        continue;
      }
      s.id = id->packed();
      if (!r.value || value != value_of(seed, *id)) {
        s.bad = true;
        note(v, fmt::format("{}-{}@{}: {} has bytes that were not sent", r.topic, r.partition,
                            r.offset, key_of(*id)));
      }
    }
  }
  (*con)->close();
  (void)read_failed;

  // The log: holes, bytes, duplicates, order.
  std::unordered_map<std::uint64_t, std::string> seen;  // id -> where, for messages
  std::unordered_set<std::uint64_t> acked_ids;
  acked_ids.reserve(acks.size());
  for (const auto& a : acks) acked_ids.insert(a.id);
  for (std::size_t t = 0; t < topics.size(); ++t) {
    for (std::size_t p = 0; p < copies[t].size(); ++p) {
      const auto& c = copies[t][p];
      std::unordered_map<std::uint32_t, std::uint64_t> last_seq;  // per producer
      for (std::size_t i = 0; i < c.slots.size(); ++i) {
        const slot& s = c.slots[i];
        const auto offset = c.start + static_cast<std::int64_t>(i);
        const auto where = fmt::format("{}-{}@{}", topics[t].name, p, offset);
        if (!s.present) {
          ++v.holes;
          if (!read_failed) note(v, where + ": missing (a hole)");
          continue;
        }
        if (s.bad) {
          ++v.bad_bytes;
          continue;
        }
        const record_id id = record_id::unpack(s.id);
        if (auto [it, fresh] = seen.emplace(s.id, where); !fresh) {
          ++v.duplicated;
          note(v, fmt::format("{}: {} again (first at {})", where, key_of(id), it->second));
        }
        if (!acked_ids.contains(s.id)) ++v.unacked_present;
        auto [it, fresh] = last_seq.emplace(id.producer, id.seq);
        if (!fresh) {
          if (id.seq < it->second) {
            ++v.reordered;
            note(v, fmt::format("{}: {} after s{} of the same producer", where, key_of(id),
                                it->second));
          }
          it->second = std::max(it->second, id.seq);
        }
      }
    }
  }
  v.corrupted += v.holes + v.bad_bytes + v.reordered;

  // Every acknowledgement: its record at its offset, byte for byte.
  for (const auto& a : acks) {
    const auto& c =
        copies.at(static_cast<std::size_t>(a.topic)).at(static_cast<std::size_t>(a.partition));
    const auto& name = topics[static_cast<std::size_t>(a.topic)].name;
    const auto what = fmt::format("{} acked at {}-{}@{}", key_of(record_id::unpack(a.id)), name,
                                  a.partition, a.offset);
    if (a.offset < c.start && topics[static_cast<std::size_t>(a.topic)].retention) {
      ++v.expired;
      continue;
    }
    if (a.offset < c.start || a.offset >= c.end) {
      ++v.lost;
      note(v, fmt::format("{}: outside the log [{}, {})", what, c.start, c.end));
      continue;
    }
    const slot& s = c.slots[static_cast<std::size_t>(a.offset - c.start)];
    if (!s.present || (!s.bad && s.id != a.id)) {
      ++v.lost;
      note(v, fmt::format("{}: {} there", what,
                          s.present ? key_of(record_id::unpack(s.id)) : "nothing"));
    } else if (!s.bad && s.value_hash != a.value_hash) {
      ++v.corrupted;  // (a bad slot was counted above already)
      note(v, what + ": its value's hash differs from the acknowledged one");
    }
  }
  return v;
}

}  // namespace sluice::chaos
