#include "broker/producer_snapshot.h"

#include <fmt/format.h>

#include "broker/metadata_generated.h"
#include "segment/atomic_file.h"
#include "segment/errc.h"

namespace sluice {

result<std::optional<producer_snapshot>> read_producer_snapshot(
    const std::filesystem::path& partition_dir) {
  const auto file = partition_dir / producer_snapshot_file_name;
  auto bytes = read_whole_file(file);
  if (!bytes) return bytes.error();
  if (!*bytes) return std::optional<producer_snapshot>{};
  const auto* data = reinterpret_cast<const std::uint8_t*>((*bytes)->data());
  flatbuffers::Verifier verifier(data, (*bytes)->size());
  if (!verifier.VerifyBuffer<meta::ProducerSnapshotFile>(nullptr)) {
    return make_error(log_errc::corrupt_log,
                      fmt::format("{} is corrupt (fails flatbuffers verification)", file.string()));
  }
  const auto* root = flatbuffers::GetRoot<meta::ProducerSnapshotFile>(data);
  producer_snapshot snap{offset{root->until_offset()}, {}};
  if (root->producers() != nullptr) {
    for (const auto* p : *root->producers()) {
      producer_state_table::remembered_producer r{
          p->producer_id(), p->epoch(), p->last_timestamp(), {}};
      if (p->batches() != nullptr) {
        for (const auto* b : *p->batches()) {
          r.batches.push_back({b->first_sequence(), b->last_sequence(), offset{b->base_offset()}});
        }
      }
      snap.table.restore(r);
    }
  }
  return std::optional<producer_snapshot>{std::move(snap)};
}

result<void> write_producer_snapshot(const std::filesystem::path& partition_dir,
                                     const producer_state_table& table, offset until) {
  flatbuffers::FlatBufferBuilder fbb;
  std::vector<flatbuffers::Offset<meta::RememberedProducer>> producers;
  std::vector<meta::RememberedBatch> batches;
  for (const auto& p : table.remembered()) {
    batches.clear();
    for (const auto& b : p.batches) {
      batches.emplace_back(b.first_sequence, b.last_sequence, b.base.value);
    }
    producers.push_back(meta::CreateRememberedProducer(
        fbb, p.producer_id, p.epoch, p.last_timestamp, fbb.CreateVectorOfStructs(batches)));
  }
  fbb.Finish(meta::CreateProducerSnapshotFile(fbb, 1, until.value, fbb.CreateVector(producers)));
  return replace_file_atomically(
      partition_dir / producer_snapshot_file_name,
      byte_span(reinterpret_cast<const std::byte*>(fbb.GetBufferPointer()), fbb.GetSize()));
}

}  // namespace sluice
