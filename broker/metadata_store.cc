#include "broker/metadata_store.h"

#include <fmt/format.h>

#include <random>

#include "broker/metadata_generated.h"
#include "segment/atomic_file.h"
#include "segment/errc.h"

namespace sluice {
namespace {

template <class T>
result<const T*> verified_root(const byte_buffer& bytes, const std::filesystem::path& file) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  flatbuffers::Verifier verifier(data, bytes.size());
  if (!verifier.VerifyBuffer<T>(nullptr)) {
    return make_error(log_errc::corrupt_log,
                      fmt::format("{} is corrupt (fails flatbuffers verification); restore it "
                                  "from a backup or remove the data directory",
                                  file.string()));
  }
  return flatbuffers::GetRoot<T>(data);
}

result<void> save_builder(const std::filesystem::path& file, flatbuffers::FlatBufferBuilder& fbb) {
  return replace_file_atomically(
      file, byte_span(reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()), fbb.GetSize()));
}

topic_record from_flatbuffer(const meta::TopicRecord& t) {
  topic_record r;
  r.name = t.name()->str();
  r.topic_id = t.topic_id() != nullptr ? t.topic_id()->str() : std::string();
  r.partitions = t.partitions();
  r.created_ms = t.created_ms();
  if (t.configs() != nullptr) {
    for (const auto* c : *t.configs()) r.overrides.emplace(c->name()->str(), c->value()->str());
  }
  return r;
}

}  // namespace

result<std::vector<topic_record>> load_topics(const std::filesystem::path& data_dir) {
  const auto file = data_dir / topics_file_name;
  auto bytes = read_whole_file(file);
  if (!bytes) return bytes.error();
  std::vector<topic_record> out;
  if (!*bytes) return out;
  auto root = verified_root<meta::TopicsFile>(**bytes, file);
  if (!root) return root.error();
  if ((*root)->topics() != nullptr) {
    for (const auto* t : *(*root)->topics()) out.push_back(from_flatbuffer(*t));
  }
  return out;
}

result<void> save_topics(const std::filesystem::path& data_dir,
                         const std::vector<topic_record>& topics) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<meta::TopicRecord>> records;
  for (const auto& t : topics) {
    std::vector<flatbuffers::Offset<meta::ConfigOverride>> configs;
    for (const auto& [name, value] : t.overrides) {
      configs.push_back(
          meta::CreateConfigOverride(fbb, fbb.CreateString(name), fbb.CreateString(value)));
    }
    records.push_back(meta::CreateTopicRecord(fbb, fbb.CreateString(t.name),
                                              fbb.CreateString(t.topic_id), t.partitions,
                                              fbb.CreateVector(configs), t.created_ms));
  }
  fbb.Finish(meta::CreateTopicsFile(fbb, 1, fbb.CreateVector(records)));
  return save_builder(data_dir / topics_file_name, fbb);
}

result<std::optional<broker_record>> load_broker_record(const std::filesystem::path& data_dir) {
  const auto file = data_dir / broker_file_name;
  auto bytes = read_whole_file(file);
  if (!bytes) return bytes.error();
  if (!*bytes) return std::optional<broker_record>{};
  auto root = verified_root<meta::BrokerFile>(**bytes, file);
  if (!root) return root.error();
  broker_record r;
  r.broker_id = (*root)->broker_id();
  r.cluster_id = (*root)->cluster_id() != nullptr ? (*root)->cluster_id()->str() : "";
  r.producer_id_block_end = (*root)->producer_id_block_end();
  return std::optional<broker_record>{r};
}

result<void> save_broker_record(const std::filesystem::path& data_dir, const broker_record& rec) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(meta::CreateBrokerFile(fbb, 1, rec.broker_id, fbb.CreateString(rec.cluster_id),
                                    rec.producer_id_block_end));
  return save_builder(data_dir / broker_file_name, fbb);
}

std::string random_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

}  // namespace sluice
